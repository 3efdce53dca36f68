import CNI
import SubnetRegistry
import NetTypes

/// host-gw peers as entries: a route via the peer's address, for peers on a network
/// directly connected to the underlay; the others are reported, never routed into a void.
/// Dual-stack, the same per family: `peer-v6-subnet via peer-PublicIPv6 dev <underlay>`.
struct HostGWPeerEntries: PeerEntries {
    let underlay: Underlay
    let localSubnet: IPPrefix
    /// The underlay's networks as the last full reconcile read them.
    let connected: [IPPrefix]
    /// Dual-stack: this node's v6 subnet and the underlay's global IPv6 networks.
    var localIPv6Subnet: IPPrefix? = nil
    var connectedIPv6: [IPPrefix] = []

    var publicIP: IPAddress { underlay.publicIP }

    package func entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        selected.compactMap { peer in
            route(peer, subnet: peer.subnet, via: peer.publicIP, connected: connected, family: .v4, into: &report)
        }
    }

    func ipv6Entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        selected.compactMap { peer in
            guard let subnet = peer.ipv6Subnet, let gateway = peer.publicIPv6 else { return nil }
            return route(peer, subnet: subnet, via: gateway, connected: connectedIPv6, family: .v6, into: &report)
        }
    }

    private func route(_ peer: Peer, subnet: IPPrefix, via gateway: IPAddress, connected: [IPPrefix],
                       family: IPAddress.Family, into report: inout ReconcileReport) -> DesiredEntry? {
        guard connected.contains(where: { $0.contains(gateway) }) else {
            let networks = connected.isEmpty ? "none" : connected.map(\.description).joined(separator: ", ")
            report.unreachablePeers.append(UnreachablePeer(
                peer: peer, reason: "\(gateway) is not on a network directly connected to \(underlay.name) "
                    + "(\(networks)); host-gw needs the nodes on one L2 segment", family: family))
            return nil
        }
        return DesiredEntry(entry: .route(RouteEntry(destination: subnet, gateway: gateway, outputIndex: underlay.index,
                                                     onlink: false,
                                                     priority: family == .v6 ? RouteEntry.ipv6DefaultMetric : nil)),
                            peerID: peer.id)
    }
}
