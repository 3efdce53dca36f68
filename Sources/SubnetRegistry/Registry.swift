#if canImport(Glibc)
import Glibc
#endif
import CNI
import NetTypes

/// Where nodes find the network config and each other's subnet leases: a directory tree
/// (`DirectoryRegistry`) or etcd (`EtcdRegistry`), both with flannel's layout.
///
/// Implementations are used by one agent thread at a time (they are not `Sendable`); an
/// agent that wants a second thread opens a second instance. Errors name the registry and
/// what failed: `RegistryError`s (by kind, with the fix in the message) for etcd, and
/// `PluginError`s for files and config validation.
package protocol Registry: AnyObject {
    /// Where the registry lives, for logs ("directory /var/lib/...", "etcd http://...").
    var location: String { get }

    /// The parsed and validated `<prefix>/config`; a clear error when it is missing.
    func networkConfig() throws -> FlannelNetworkConfig

    /// Stores `<prefix>/config` verbatim (set-up tools and tests; agents only read it).
    func storeNetworkConfig(_ json: String) throws

    /// Every unexpired lease under `<prefix>/subnets`, in subnet order, each with the key it
    /// is stored under (`storedKey`, whatever its spelling: `LeaseAdmission` judges it) and
    /// its `creationRank`. Unreadable entries are skipped (a broken lease of one node must
    /// not stop the others) and reported by `takeSkippedEntries`.
    func leases() throws -> [SubnetLease]

    /// The entries under `<prefix>/subnets` that the last `leases()` and the batches of
    /// `waitForChanges` since could not read as leases (reason `.unreadable`, with the
    /// entry's stored key and what is wrong), then forgets them. Call it after each listing
    /// and batch and hand them to `AdmittedLeases` with it. A listing starts the list over.
    func takeSkippedEntries() -> [RejectedLease]

    /// Creates the lease only if its key is free (an expired lease counts as free). Atomic
    /// against every other agent: false means someone else holds the subnet.
    func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool

    /// Extends our lease by `ttl` seconds and stores its current attributes. Recreates it when
    /// it lapsed and nobody took it; throws when another node (other PublicIP) holds it.
    func renewLease(_ lease: SubnetLease, ttl: Int) throws

    /// Removes the lease for `subnet` (no error when it is already gone).
    func deleteLease(subnet: IPPrefix) throws

    /// Removes exactly the lease stored under `key` (`10.244.1.0-24&fd00:0:0:1::-64`), not
    /// others that share its IPv4 subnet (no error when it is already gone).
    func deleteLease(key: String) throws

    /// Blocks until something under `<prefix>/subnets` changed since the last `leases()` or
    /// the last batch of events, or `timeout` seconds passed. Every change already waiting
    /// comes back in one batch (a thousand leases written at once are one batch when the
    /// registry delivers them together).
    func waitForChanges(timeout: Double) throws -> RegistryChanges
}

extension Registry {
    /// For registries that read nothing they could skip (test doubles).
    package func takeSkippedEntries() -> [RejectedLease] { [] }

    /// For registries that only delete by subnet (test doubles): right for IPv4-only keys,
    /// an error for dual-stack ones, which `deleteLease(subnet:)` would over-match.
    package func deleteLease(key: String) throws {
        guard let parsed = LeaseKey.parse(key), parsed.ipv6Subnet == nil else {
            throw PluginError(.failed, "\(location) cannot delete the single lease \(key)")
        }
        try deleteLease(subnet: parsed.subnet)
    }
}

/// Default registry settings shared by both implementations and the agent's flags.
package enum RegistryDefaults {
    /// flannel's etcd prefix.
    package static let prefix = "/coreos.com/network"
    /// flannel's lease TTL: 24 hours.
    package static let leaseTTL = 24 * 3600
}

/// Wall-clock seconds since the epoch (lease expirations are absolute times shared between
/// nodes, so the monotonic clock does not fit here).
package func registryNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
