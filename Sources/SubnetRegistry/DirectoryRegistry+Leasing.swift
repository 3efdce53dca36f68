#if canImport(Glibc)
import Glibc
#endif
import CNI

/// Creating, taking over and renewing lease files (see `DirectoryRegistry` for the rules).
extension DirectoryRegistry {
    package func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool {
        try Posix.makeDirectories(subnetsDirectory)
        let path = subnetsDirectory + "/" + lease.key
        let temp = try RegistryFiles.writeTemporary(
            in: subnetsDirectory, Array(LeaseJSON.encode(lease).utf8), mtime: registryNow() + Double(ttl))
        defer { unlink(temp) }  // after link: the extra name; after rename: already gone
        if try linkIfAbsent(temp, path) { return true }
        // Taken, unless expired: re-check and replace under the lock, where no renewal,
        // delete or other take-over can interleave.
        guard let mtime = try RegistryFiles.modificationTime(path), mtime > registryNow() else {
            return try RegistryFiles.withLock(lockPath) { () throws(PluginError) -> Bool in
                guard let mtime = try RegistryFiles.modificationTime(path) else {
                    return try linkIfAbsent(temp, path)
                }
                guard mtime <= registryNow() else { return false }
                try replace(temp, path)
                return true
            }
        }
        return false
    }

    package func renewLease(_ lease: SubnetLease, ttl: Int) throws {
        try Posix.makeDirectories(subnetsDirectory)
        let path = subnetsDirectory + "/" + lease.key
        let value = Array(LeaseJSON.encode(lease).utf8)
        try RegistryFiles.withLock(lockPath) { () throws(PluginError) in
            try checkNotHeldByOther(lease, path: path)
            let expiry = registryNow() + Double(ttl)
            // Unchanged: move the expiry of the same file, whose birth time says how old the
            // lease is; a rewrite by rename would make the node look new at every renewal.
            if try RegistryFiles.extendIfUnchanged(path, holding: value, until: expiry) { return }
            let temp = try RegistryFiles.writeTemporary(in: subnetsDirectory, value, mtime: expiry)
            defer { unlink(temp) }
            if try RegistryFiles.modificationTime(path) != nil {
                try replace(temp, path)
            } else if try !linkIfAbsent(temp, path) {
                // A creator (they do not lock) got in between: renew only if it was us.
                try checkNotHeldByOther(lease, path: path)
                try replace(temp, path)
            }
        }
    }

    /// Throws when `path` holds an unexpired lease of another node, or an unexpired entry
    /// nobody can read (a planted symlink or FIFO: never followed, never waited on).
    private func checkNotHeldByOther(_ lease: SubnetLease, path: String) throws(PluginError) {
        guard let mtime = try RegistryFiles.modificationTime(path), mtime > registryNow() else { return }
        let current: SubnetLease
        do throws(PluginError) {
            guard let file = try RegistryFiles.read(path, limit: RegistryFiles.leaseSizeLimit) else { return }
            current = try LeaseJSON.decode(file.bytes, key: lease.key)
        } catch {
            throw PluginError(.failed, "cannot renew lease \(lease.subnet): \(path) is not a valid lease (\(error.message)); remove it")
        }
        guard current.publicIP == lease.publicIP else {
            throw PluginError(.failed,
                "cannot renew lease \(lease.subnet) for \(lease.publicIP): it is held by \(current.publicIP) (\(location))")
        }
    }

    /// `link(2)`: true when created, false when the name exists.
    private func linkIfAbsent(_ temp: String, _ path: String) throws(PluginError) -> Bool {
        if link(temp, path) == 0 {
            RegistryFiles.syncDirectory(subnetsDirectory)
            return true
        }
        if errno == EEXIST { return false }
        throw Posix.ioError("create lease", path)
    }

    private func replace(_ temp: String, _ path: String) throws(PluginError) {
        guard rename(temp, path) == 0 else { throw Posix.ioError("replace lease", path) }
        RegistryFiles.syncDirectory(subnetsDirectory)
    }
}
