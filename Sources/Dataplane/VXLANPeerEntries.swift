import CNI
import SubnetRegistry
import NetTypes

/// VXLAN peers as entries: the tunnel's three on the device, or with DirectRouting a plain
/// route over the underlay to a peer on a directly connected network. Dual-stack, the same
/// for each peer's v6 half on `flannel-v6.<VNI>`.
struct VXLANPeerEntries: PeerEntries {
    let configuration: VXLANConfiguration
    let underlay: Underlay
    /// The device's index as the last full reconcile found (or made) it.
    let device: Int32
    let connected: [IPPrefix]
    /// Dual-stack: `flannel-v6.<VNI>` as the last full reconcile found it, and the
    /// underlay's global IPv6 networks; nil and empty on an IPv4-only node.
    var ipv6Device: Int32? = nil
    var connectedIPv6: [IPPrefix] = []

    var localSubnet: IPPrefix { configuration.localSubnet }
    var publicIP: IPAddress { underlay.publicIP }
    var localIPv6Subnet: IPPrefix? { ipv6Device == nil ? nil : configuration.localIPv6Subnet }

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

    func ipv6Entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        guard let ipv6Device else { return [] }
        var desired: [DesiredEntry] = []
        for peer in selected {
            guard let subnet = peer.ipv6Subnet, let publicIPv6 = peer.publicIPv6 else { continue }
            if configuration.directRouting && connectedIPv6.contains(where: { $0.contains(publicIPv6) }) {
                desired.append(DesiredEntry(entry: .route(RouteEntry(destination: subnet, gateway: publicIPv6,
                                                                     outputIndex: underlay.index, onlink: false,
                                                                     priority: RouteEntry.ipv6DefaultMetric)),
                                            peerID: peer.id))
                continue
            }
            guard let mac = peer.vtepMACv6 else {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: "its lease has no BackendV6Data VtepMAC",
                                                               family: .v6))
                continue
            }
            desired += VXLANDataplane.tunnelEntries(subnet: subnet, publicIP: publicIPv6, mac: mac, device: ipv6Device)
                .map { DesiredEntry(entry: $0, peerID: peer.id) }
        }
        return desired
    }
}
