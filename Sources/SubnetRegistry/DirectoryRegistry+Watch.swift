import CNI

extension DirectoryRegistry {
    /// The leases whose files changed, read one by one: a burst of renames costs one read per
    /// renamed file instead of a listing of the whole directory per burst.
    package func waitForChanges(timeout: Double) throws -> RegistryChanges {
        guard let watcher else { return .relistNeeded(reason: "no listing to follow on from") }
        let start = registryNow()
        // Expiry makes no file event: list again when the first known lease lapses.
        if let expiry = nextExpiry, expiry <= start { return .relistNeeded(reason: "a lease expired") }
        let untilExpiry = nextExpiry.map { $0 - start } ?? .infinity
        let batch = try watcher.waitForChanges(seconds: min(max(timeout, 0), untilExpiry))
        if batch.watchEnded {
            watcher.close()
            self.watcher = nil  // the next listing sets up a new one
        }
        if batch.mustRelist { return .relistNeeded(reason: "inotify lost track of \(subnetsDirectory)") }
        if batch.names.isEmpty {
            return untilExpiry <= max(timeout, 0) ? .relistNeeded(reason: "a lease expired") : .timeout
        }
        return .events(try events(for: batch.names))
    }

    /// The change each name stands for, from the file as it is now: a readable, unexpired
    /// lease is a put; anything else (gone, expired, unreadable) means no lease, as in a
    /// listing, and an unreadable entry is also reported (`takeSkippedEntries`).
    func events(for names: Set<String>) throws(PluginError) -> [RegistryEvent] {
        let now = registryNow()
        var events: [RegistryEvent] = []
        for name in names.sorted() {
            switch readEntry(name) {
            case .lease(let lease) where !lease.isExpired(at: now):
                events.append(.put(lease))
                if let expiry = lease.expiration { nextExpiry = min(nextExpiry ?? expiry, expiry) }
            case .unreadable(let entry):
                skippedEntries.append(entry)
                events.append(.delete(storedKey: name))
            case .lease, .absent:
                events.append(.delete(storedKey: name))
            }
        }
        return events
    }

    /// The watcher on the subnets directory (created with the directory when needed).
    @discardableResult
    func ensureWatcher() throws(PluginError) -> DirectoryWatcher? {
        if let watcher { return watcher }
        try Posix.makeDirectories(subnetsDirectory)
        let w = DirectoryWatcher(directory: subnetsDirectory, useInotify: !pollsForChanges) {
            [unowned self] () throws(PluginError) in try self.snapshot()
        }
        watcher = w
        return w
    }
}
