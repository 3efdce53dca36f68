#if canImport(Glibc)
import Glibc
#endif
import CNI
import NetTypes

/// The registry as plain files with flannel's etcd layout, for clusters without etcd (a
/// shared filesystem) and for tests:
///
///     <root><prefix>/config                     network config JSON
///     <root><prefix>/subnets/10.244.1.0-24      lease JSON, one file per node
///     <root><prefix>/.registry.lock             flock for take-over, renewal and delete
///
/// A lease file's mtime IS its expiry time (set into the future with futimens), so
/// "expired" needs no TTL knowledge and survives agent restarts; a renewal moves the mtime
/// (in place when nothing else changed, else by rewriting the file). (A hand-written lease therefore needs `touch -d '+1 day'`.)
///
/// Creation is `link(2)` of a finished temp file to the key (EEXIST: taken), so readers never
/// see half-written leases and two creators cannot both win. Replacing an expired lease,
/// renewing and deleting happen under the lock file, and creators never replace an existing
/// file, so a lease nobody holds-the-lock for can only go from absent to present.
///
/// Anyone who can write the directory can plant entries: a lease file is opened without
/// following symlinks and without blocking, must be a regular file of at most 64 KiB, and
/// anything else (a symlink or loop, a FIFO, a socket, a device, a directory, a huge file,
/// not JSON, a name that is no lease key) is skipped and reported (`takeSkippedEntries`),
/// never an error of the listing or the batch.
///
/// How old a lease is (`creationRank`, which decides between two leases for one subnet) is
/// the file's birth time (statx): creation links a new file, and a renewal that changes
/// nothing only moves the mtime of the same inode, so the birth time stays the creation
/// time. Nil on a filesystem without birth times (the judge then orders by key).
package final class DirectoryRegistry: Registry {
    package let root: String
    package let prefix: String
    let baseDirectory: String
    let subnetsDirectory: String
    let configPath: String
    let lockPath: String
    /// Set up by `leases()`; until then `waitForChanges` asks for a listing.
    var watcher: DirectoryWatcher?
    /// Earliest expiry among the leases of the last listing and those read since:
    /// `waitForChanges` asks for a listing then, because expiry itself produces no file event.
    var nextExpiry: Double?
    /// Tests: use the polling fallback even when inotify works.
    var pollsForChanges = false
    /// Entries the last listing and the batches since could not read (`takeSkippedEntries`).
    var skippedEntries: [RejectedLease] = []

    package init(root: String, prefix: String = RegistryDefaults.prefix) {
        self.root = root
        self.prefix = prefix
        var base = root.hasSuffix("/") ? String(root.dropLast()) : root
        base += prefix.hasPrefix("/") ? prefix : "/" + prefix
        while base.hasSuffix("/") && base.count > 1 { base.removeLast() }
        baseDirectory = base
        subnetsDirectory = base + "/subnets"
        configPath = base + "/config"
        lockPath = base + "/.registry.lock"
    }

    deinit { watcher?.close() }

    package var location: String { "directory \(baseDirectory)" }

    package func networkConfig() throws -> FlannelNetworkConfig {
        guard let bytes = try RegistryFiles.readIfPresent(configPath) else {
            throw PluginError(.invalidConfig,
                "network config \(configPath) does not exist; write flannel's config there, "
                + "e.g. {\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}")
        }
        return try FlannelNetworkConfig.parse(bytes, what: "network config \(configPath)")
    }

    package func storeNetworkConfig(_ json: String) throws {
        try Posix.makeDirectories(baseDirectory)
        try Posix.writeAtomically(Array(json.utf8), to: configPath)
    }

    package func leases() throws -> [SubnetLease] {
        try ensureWatcher()?.drain()
        let now = registryNow()
        var result: [SubnetLease] = []
        skippedEntries = []
        for name in try RegistryFiles.list(subnetsDirectory) where !name.hasPrefix(".") {
            switch readEntry(name) {
            case .lease(let lease) where !lease.isExpired(at: now): result.append(lease)
            case .unreadable(let entry): skippedEntries.append(entry)
            case .lease, .absent: continue
            }
        }
        result.sort { $0.subnet.address < $1.subnet.address }
        nextExpiry = result.compactMap(\.expiration).min()
        watcher?.remember(try snapshot())
        return result
    }

    package func deleteLease(subnet: IPPrefix) throws {
        try Posix.makeDirectories(baseDirectory)
        try RegistryFiles.withLock(lockPath) { () throws(PluginError) in
            for name in try RegistryFiles.list(subnetsDirectory) where LeaseKey.parse(name)?.subnet == subnet.network {
                let path = subnetsDirectory + "/" + name
                if unlink(path) != 0 && errno != ENOENT { throw Posix.ioError("remove", path) }
            }
        }
        RegistryFiles.syncDirectory(subnetsDirectory)
    }

    package func deleteLease(key: String) throws {
        guard LeaseKey.parse(key) != nil, !key.contains("/") else {
            throw PluginError(.invalidConfig, "\(key) is not a lease key like 10.244.1.0-24")
        }
        try Posix.makeDirectories(baseDirectory)
        let path = subnetsDirectory + "/" + key
        try RegistryFiles.withLock(lockPath) { () throws(PluginError) in
            if unlink(path) != 0 && errno != ENOENT { throw Posix.ioError("remove", path) }
        }
        RegistryFiles.syncDirectory(subnetsDirectory)
    }

    package func takeSkippedEntries() -> [RejectedLease] {
        defer { skippedEntries = [] }
        return skippedEntries
    }

    /// The entry `name` of the subnets directory. Never throws: whatever is wrong with one
    /// entry is that entry's problem, not the listing's.
    func readEntry(_ name: String) -> RegistryEntry {
        let path = subnetsDirectory + "/" + name
        func unreadable(_ detail: String) -> RegistryEntry {
            .unreadable(RejectedLease(storedKey: name, reason: .unreadable, detail: detail))
        }
        guard let subnets = LeaseKey.parse(name) else {
            var st = stat()
            return lstat(path, &st) != 0 && errno == ENOENT ? .absent : unreadable("\(path) is not a lease key like 10.244.1.0-24")
        }
        do throws(PluginError) {
            guard let file = try RegistryFiles.read(path, limit: RegistryFiles.leaseSizeLimit) else { return .absent }
            var lease = try LeaseJSON.decode(file.bytes, key: name, subnets: subnets)
            lease.expiration = file.mtime
            lease.storedKey = name
            lease.creationRank = file.birth
            return .lease(lease)
        } catch {
            return unreadable(error.message)
        }
    }

    /// Entry names and mtimes (lstat: an entry's own): what the polling fallback compares.
    /// An entry that cannot be looked at is left out rather than failing the whole poll.
    func snapshot() throws(PluginError) -> [String: Double] {
        var out: [String: Double] = [:]
        for name in try RegistryFiles.list(subnetsDirectory) where !name.hasPrefix(".") {
            out[name] = (try? RegistryFiles.modificationTime(subnetsDirectory + "/" + name)) ?? nil
        }
        return out
    }
}
