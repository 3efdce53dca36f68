import CNI
import NetTypes

/// One address family's part of the network config as the allocator sees it: where a node's
/// subnet may lie (`min`...`max`, `length` long, inside `network`), and which part of a
/// lease belongs to this family.
struct SubnetFamilyRange {
    let family: IPAddress.Family
    let network: IPPrefix
    let min: IPAddress
    let max: IPAddress
    let length: Int

    /// The IPv4 range, or nil when the config disables IPv4.
    static func v4(_ config: FlannelNetworkConfig) -> SubnetFamilyRange? {
        guard config.enableIPv4, let network = config.network, let min = config.subnetMin, let max = config.subnetMax
        else { return nil }
        return SubnetFamilyRange(family: .v4, network: network, min: min, max: max, length: config.subnetLen)
    }

    /// The IPv6 range, or nil when the config does not enable IPv6.
    static func v6(_ config: FlannelNetworkConfig) -> SubnetFamilyRange? {
        guard config.enableIPv6, let network = config.ipv6Network, let min = config.ipv6SubnetMin,
              let max = config.ipv6SubnetMax else { return nil }
        return SubnetFamilyRange(family: .v6, network: network, min: min, max: max, length: config.ipv6SubnetLen)
    }

    /// This family's subnet of `lease` (the key's first or second part).
    func part(of lease: SubnetLease) -> IPPrefix? {
        family == .v4 ? lease.subnet : lease.ipv6Subnet
    }

    /// Up to `limit` subnets in min...max, lowest first, that no lease holds or overlaps and
    /// that are not `excluded`.
    func freeCandidates(leases: [SubnetLease], excluded: Set<IPPrefix>, limit: Int) -> [IPPrefix] {
        let taken = Set(leases.compactMap { part(of: $0) })
        let otherLengths = taken.filter { $0.length != length }
        var free: [IPPrefix] = []
        var cursor: IPAddress? = min
        while let address = cursor, address <= max, free.count < limit {
            let candidate = IPPrefix(address: address, length: length)!
            if !excluded.contains(candidate) && !taken.contains(candidate)
                && !otherLengths.contains(where: { $0.overlaps(candidate) }) {
                free.append(candidate)
            }
            cursor = SubnetMath.next(address, length: length)
        }
        return free
    }

    /// Why nothing was free (the IPv4 wording predates dual stack and is kept).
    func exhausted(leases: [SubnetLease], excluded: Set<IPPrefix>) -> PluginError {
        let held = leases.filter { part(of: $0) != nil }.count
        return PluginError(.failed,
            "no free \(family == .v4 ? "" : "IPv6 ")subnet in \(network) between \(min) and \(max) (/\(length)): "
            + "\(held) leases held" + (excluded.isEmpty ? "" : ", \(excluded.count) lost to other nodes"))
    }
}
