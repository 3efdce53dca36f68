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

/// One lease change under `<prefix>/subnets`.
package enum RegistryEvent: Equatable {
    /// The lease for `lease.subnet` is new or has new attributes (or was merely renewed).
    case put(SubnetLease)
    /// No valid lease holds the key of `subnet` (and, in dual stack, `ipv6Subnet`) any more:
    /// deleted, expired, or unreadable. The IPv6 half tells an old IPv4-only key removed
    /// after its node moved to a dual-stack key apart from the key the node uses now.
    case delete(IPPrefix, ipv6Subnet: IPPrefix? = nil)
}
