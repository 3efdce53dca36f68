import CNI
import SubnetRegistry
import NetTypes

/// VXLAN peers as entries: the tunnel's three on the device, or with DirectRouting a plain
/// route over the underlay to a peer on a directly connected network.
struct VXLANPeerEntries: PeerEntries {
    let configuration: VXLANConfiguration
    let underlay: Underlay
    /// The device's index as the last full reconcile found (or made) it.
    let device: Int32
    let connected: [IPPrefix]

    var localSubnet: IPPrefix { configuration.localSubnet }
    var publicIP: IPAddress { underlay.publicIP }

    package func entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        var desired: [DesiredEntry] = []
        for peer in selected {
            if configuration.directRouting && connected.contains(where: { $0.contains(peer.publicIP) }) {
                desired.append(DesiredEntry(entry: .route(RouteEntry(destination: peer.subnet, gateway: peer.publicIP,
                                                                     outputIndex: underlay.index, onlink: false)),
                                            peerID: peer.id))
                continue
            }
            guard let mac = peer.vtepMAC else {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: "its lease has no VtepMAC"))
                continue
            }
            desired += VXLANDataplane.tunnelEntries(peer, mac: mac, device: device).map { DesiredEntry(entry: $0, peerID: peer.id) }
        }
        return desired
    }
}
