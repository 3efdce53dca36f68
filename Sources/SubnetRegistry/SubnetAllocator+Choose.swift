import CNI
import NetTypes

/// The allocator's pure decision. Per family, the first that applies:
///
/// IPv4: (1) a lease of this node (same PublicIP) that fits the config whole and whose IPv4
///       or IPv6 part is the previous one: renewed as it is (the registry, not subnet.env,
///       says what this node holds); (2) the previous IPv4 subnet when no other node holds or
///       overlaps it; (3) a lease of this node that fits whole; (4) the IPv4 part of any
///       lease of this node that still fits; (5) a random free subnet in [SubnetMin,
///       SubnetMax], picked among the first 100 free ones so agents starting together
///       rarely collide.
/// IPv6: (1) the IPv6 part of this node's whole-fitting lease with the chosen IPv4 subnet;
///       (2) the previous IPv6 subnet when no other node holds or overlaps it; (3) the IPv6
///       part of any lease of this node that fits; (4) random, as for IPv4.
///
/// "Fits" for a kept subnet: inside the network with the configured length (a narrowed
/// SubnetMin/SubnetMax does not evict a running node); a dual-stack config needs both parts,
/// an IPv4-only one a lease without an IPv6 part. Ownership is PublicIP, as in flannel and
/// in both registries' renewal checks; PublicIPv6 alone does not make a lease ours.
extension SubnetAllocator {
    /// `excluded`: subnets (of either family) we lost a race for.
    package func choose(leases: [SubnetLease], previous: IPPrefix?, previousIPv6: IPPrefix? = nil,
                       excluded: Set<IPPrefix> = [],
                       using rng: inout some RandomNumberGenerator) throws(PluginError) -> Choice {
        let (v4Range, v6Range) = try ranges()
        let view = LeaseView(leases: leases, publicIP: publicIP, excluded: excluded, v4: v4Range, v6: v6Range)
        let previous4 = previous?.network, previous6 = previousIPv6?.network

        let v4: IPPrefix
        if let kept = view.whole.first(where: { $0.subnet == previous4 })
                   ?? view.whole.first(where: { v6Range != nil && previous6 != nil && $0.ipv6Subnet == previous6 }) {
            v4 = kept.subnet
        } else if let kept = view.reusable(previous4, v4Range) ?? view.whole.first?.subnet
                          ?? view.mine.lazy.compactMap({ view.reusable($0.subnet, v4Range) }).first {
            v4 = kept
        } else {
            v4 = try random(v4Range, view, using: &rng)
        }

        var v6: IPPrefix?
        if let v6Range {
            if let kept = view.whole.first(where: { $0.subnet == v4 })?.ipv6Subnet ?? view.reusable(previous6, v6Range)
                       ?? view.mine.lazy.compactMap({ view.reusable($0.ipv6Subnet, v6Range) }).first {
                v6 = kept
            } else {
                v6 = try random(v6Range, view, using: &rng)
            }
        }

        let key = LeaseKey.make(subnet: v4, ipv6Subnet: v6)
        let replacing = view.mine.filter { $0.key != key && ($0.subnet == v4 || (v6 != nil && $0.ipv6Subnet == v6)) }
            .map(\.key)
        return view.mine.contains { $0.key == key }
            ? .renew(v4, ipv6: v6, replacing: replacing) : .create(v4, ipv6: v6, replacing: replacing)
    }

    /// The config's ranges, or why this node cannot take a lease of it.
    func ranges() throws(PluginError) -> (SubnetFamilyRange, SubnetFamilyRange?) {
        guard let v4 = SubnetFamilyRange.v4(config) else {
            throw PluginError(.unsupportedField,
                "IPv6-only networks (EnableIPv4 false) are not supported: lease keys name an IPv4 subnet first "
                + "(10.244.1.0-24&fd00:0:0:1::-64), and flannel's etcd subnet manager has no IPv6-only mode either; "
                + "set EnableIPv4 true with a Network next to IPv6Network")
        }
        guard config.enableIPv6 else { return (v4, nil) }
        guard let v6 = SubnetFamilyRange.v6(config) else {
            throw PluginError(.invalidConfig, "EnableIPv6 is true but the network config has no resolved IPv6Network range")
        }
        guard publicIPv6?.family == .v6 else {
            throw PluginError(.failed,
                "EnableIPv6 is true but this node has no public IPv6 address for its lease (PublicIPv6); "
                + "give --public-ipv6 or an IPv6 address on the underlay interface")
        }
        return (v4, v6)
    }

    private func random(_ range: SubnetFamilyRange, _ view: LeaseView,
                        using rng: inout some RandomNumberGenerator) throws(PluginError) -> IPPrefix {
        let lost = view.excluded.filter { $0.family == range.family }
        let free = range.freeCandidates(leases: view.leases, excluded: lost, limit: candidatePool)
        guard let pick = free.randomElement(using: &rng) else {
            throw range.exhausted(leases: view.leases, excluded: lost)
        }
        return pick
    }
}

/// A listing split the way `choose` asks about it.
private struct LeaseView {
    let leases: [SubnetLease]
    let excluded: Set<IPPrefix>
    /// This node's leases (same PublicIP), in listing order.
    let mine: [SubnetLease]
    let others: [SubnetLease]
    /// This node's leases that fit the config in every family it enables (and no other).
    let whole: [SubnetLease]
    let v4: SubnetFamilyRange
    let v6: SubnetFamilyRange?

    init(leases: [SubnetLease], publicIP: IPAddress, excluded: Set<IPPrefix>, v4: SubnetFamilyRange, v6: SubnetFamilyRange?) {
        self.leases = leases
        self.excluded = excluded
        self.v4 = v4
        self.v6 = v6
        mine = leases.filter { $0.publicIP == publicIP }
        others = leases.filter { $0.publicIP != publicIP }
        var whole: [SubnetLease] = []
        for lease in mine {
            let v6Fits = v6.map { lease.ipv6Subnet != nil && Self.keeps(lease.ipv6Subnet, $0, excluded) }
                ?? (lease.ipv6Subnet == nil)
            if v6Fits && Self.keeps(lease.subnet, v4, excluded) { whole.append(lease) }
        }
        self.whole = whole
    }

    /// `subnet` when this node may keep or take it: it fits `range` (inside the network,
    /// the configured length), was not lost in a race, and no other node's lease overlaps it.
    func reusable(_ subnet: IPPrefix?, _ range: SubnetFamilyRange) -> IPPrefix? {
        guard let subnet, Self.keeps(subnet, range, excluded),
              !others.contains(where: { range.part(of: $0)?.overlaps(subnet) == true }) else { return nil }
        return subnet
    }

    private static func keeps(_ subnet: IPPrefix?, _ range: SubnetFamilyRange, _ excluded: Set<IPPrefix>) -> Bool {
        guard let subnet else { return false }
        return subnet.family == range.family && subnet.length == range.length && subnet.network == subnet
            && range.network.contains(subnet.address) && !excluded.contains(subnet)
    }
}
