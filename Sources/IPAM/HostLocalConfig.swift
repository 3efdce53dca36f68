import CNI
import NetTypes

/// A validated host-local IPAM configuration: everything the allocator and the result need.
package struct HostLocalConfig: Sendable, Equatable {
    /// Where the reference keeps its state; same default so both can share a host.
    package static let defaultDataDir = "/var/lib/cni/networks"

    /// The network config's top-level `name`: the state directory under `dataDir`.
    package let networkName: String
    /// One address per set on every ADD, in this order.
    package let rangeSets: [RangeSet]
    package let routes: [CNIResult.Route]
    package let dataDir: String
    /// Path of a resolv.conf-style file; read by `dns()` only when a result needs it.
    package let resolvConf: String?
    /// `ipam.syncReservations` (ours; the reference has no such field): fsync each new
    /// reservation and the directory before ADD returns. Off by default: a power loss kills
    /// every container of the node too, so a lost reservation costs nothing; see
    /// docs/crash-safety.md for the measured cost.
    package let syncReservations: Bool

    /// Rejects a network name that would escape `dataDir`, no range sets, and sets that
    /// share an address (an address must map to exactly one set).
    package init(
        networkName: String, rangeSets: [RangeSet], routes: [CNIResult.Route] = [],
        dataDir: String = HostLocalConfig.defaultDataDir, resolvConf: String? = nil,
        syncReservations: Bool = false
    ) throws {
        try PathComponent.validate(networkName, as: "network name")
        guard !rangeSets.isEmpty else {
            throw PluginError(.invalidConfig, "no IP ranges specified (need ipam.ranges or ipam.subnet)")
        }
        for (i, a) in rangeSets.enumerated() {
            for (j, b) in rangeSets.enumerated() where j > i && a.overlaps(b) {
                throw PluginError(.invalidConfig, "range set \(i) (\(a)) overlaps with range set \(j) (\(b))")
            }
        }
        guard !dataDir.isEmpty else { throw PluginError(.invalidConfig, "ipam.dataDir is empty") }
        self.networkName = networkName
        self.rangeSets = rangeSets
        self.routes = routes
        self.dataDir = dataDir
        self.resolvConf = resolvConf
        self.syncReservations = syncReservations
    }

    /// The range set index and range an address belongs to, if any.
    package func locate(_ address: IPAddress) -> (setIndex: Int, range: AddressRange)? {
        for (i, set) in rangeSets.enumerated() {
            if let range = set.range(containing: address) { return (i, range) }
        }
        return nil
    }

    /// `address` as the allocation it would be in this config (prefix length and gateway of
    /// its range); nil if no range holds it. Lets CHECK turn held addresses into results.
    package func allocation(for address: IPAddress) -> Allocation? {
        guard let (index, range) = locate(address) else { return nil }
        return Allocation(range: range, address: address, rangeSetIndex: index)
    }

    /// DNS settings from `resolvConf`, or nil when none is configured.
    package func dns() throws -> CNIResult.DNS? {
        try resolvConf.map { try CNIResult.DNS.load(resolvConf: $0) }
    }
}
