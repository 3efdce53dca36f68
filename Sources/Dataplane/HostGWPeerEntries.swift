import CNI
import SubnetRegistry
import NetTypes

/// host-gw peers as entries: a route via the peer's address, for peers on a network
/// directly connected to the underlay; the others are reported, never routed into a void.
struct HostGWPeerEntries: PeerEntries {
    let underlay: Underlay
    let localSubnet: IPPrefix
    /// The underlay's networks as the last full reconcile read them.
    let connected: [IPPrefix]

    var publicIP: IPAddress { underlay.publicIP }

    package func entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        var desired: [DesiredEntry] = []
        for peer in selected {
            guard connected.contains(where: { $0.contains(peer.publicIP) }) else {
                let networks = connected.isEmpty ? "none" : connected.map(\.description).joined(separator: ", ")
                report.unreachablePeers.append(UnreachablePeer(
                    peer: peer, reason: "\(peer.publicIP) is not on a network directly connected to \(underlay.name) "
                        + "(\(networks)); host-gw needs the nodes on one L2 segment"))
                continue
            }
            desired.append(DesiredEntry(entry: .route(RouteEntry(destination: peer.subnet, gateway: peer.publicIP,
                                                                 outputIndex: underlay.index, onlink: false)),
                                        peerID: peer.id))
        }
        return desired
    }
}
