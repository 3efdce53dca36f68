import CNI
import NetTypes

/// What `Registry.waitForChanges` saw: the changes themselves when the registry can say,
/// so the agent touches only the peers that changed instead of re-reading every lease.
/// Public because the `Registry` protocol is.
package enum RegistryChanges: Equatable {
    /// Nothing changed before the timeout.
    case timeout
    /// These changes, oldest first; applying them in order to the last listing (plus the
    /// earlier batches) gives the registry's current leases.
    case events([RegistryEvent])
    /// The registry cannot say what changed (never listed, the etcd watch fell behind
    /// compaction, the inotify queue overflowed, a lease expired): list everything again.
    /// The reason is for the log.
    case relistNeeded(reason: String)
}

/// One lease change under `<prefix>/subnets`, named by the key as stored there (relative to
/// `<prefix>/subnets/`, whatever its spelling: aliases must reach `LeaseAdmission` to be
/// reported, not vanish in the registry).
package enum RegistryEvent: Equatable, Sendable {
    /// The lease stored under `lease.storedKey` is new or has new attributes (or was merely renewed).
    case put(SubnetLease)
    /// No readable lease is stored under this key any more: deleted, expired, or unreadable
    /// (the registry reports an unreadable entry apart, see `Registry.takeSkippedEntries`).
    case delete(storedKey: String)

    /// The stored key the event is about.
    package var storedKey: String {
        switch self {
        case .put(let lease): return lease.storedKey
        case .delete(let key): return key
        }
    }
}
