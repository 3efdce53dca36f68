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
/// "expired" needs no TTL knowledge and survives agent restarts; a renewal rewrites the file
/// with a later mtime. (A hand-written lease therefore needs `touch -d '+1 day'`.)
///
/// Creation is `link(2)` of a finished temp file to the key (EEXIST: taken), so readers never
/// see half-written leases and two creators cannot both win. Replacing an expired lease,
/// renewing and deleting happen under the lock file, and creators never replace an existing
/// file, so a lease nobody holds-the-lock for can only go from absent to present.
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
        for name in try RegistryFiles.list(subnetsDirectory) where !name.hasPrefix(".") {
            guard let subnets = LeaseKey.parse(name),
                  let lease = try readLease(name, subnets: subnets), !lease.isExpired(at: now) else { continue }
            result.append(lease)
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

    /// The lease stored under `name` (which names `subnets`) with its expiry, nil when absent
    /// or unreadable.
    func readLease(_ name: String, subnets: (subnet: IPPrefix, ipv6Subnet: IPPrefix?)) throws(PluginError) -> SubnetLease? {
        guard let (bytes, mtime) = try RegistryFiles.readWithModificationTime(subnetsDirectory + "/" + name),
              var lease = try? LeaseJSON.decode(bytes, key: name, subnets: subnets) else { return nil }
        lease.expiration = mtime
        lease.storedKey = name
        return lease
    }

    /// Lease names and mtimes: what the polling fallback compares.
    func snapshot() throws(PluginError) -> [String: Double] {
        var out: [String: Double] = [:]
        for name in try RegistryFiles.list(subnetsDirectory) where !name.hasPrefix(".") {
            out[name] = try RegistryFiles.modificationTime(subnetsDirectory + "/" + name)
        }
        return out
    }
}
