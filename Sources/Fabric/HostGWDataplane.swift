import NetTypes
import Netlink

/// The host-gw backend: per peer the route `peer-subnet via peer-ip dev <underlay>`.
///
/// It needs L2 adjacency: a peer whose public IP is not inside a network directly connected
/// on the underlay (one of its addresses' prefixes) is not programmed but reported as
/// unreachable — flannel installs such a route anyway and the traffic silently disappears.
public struct HostGWDataplane: Dataplane, Sendable {
    public let underlay: Underlay
    /// This node's subnet: never routed to a peer.
    public let localSubnet: IPPrefix
    private var reconciler: Reconciler

    public init(underlay: Underlay, localSubnet: IPPrefix, socket: RouteSocket) {
        self.underlay = underlay
        self.localSubnet = localSubnet.network
        self.reconciler = Reconciler(socket: socket)
    }

    public mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        let connected: [IPPrefix]
        do {
            connected = Underlay.connectedNetworks(of: underlay.index, in: try reconciler.socket.addresses(family: .v4))
            report.netlinkRoundTrips += 1
        } catch {
            report.failures.append(EntryFailure(entry: "addresses of \(underlay.name)", peerID: nil, reason: "\(error)"))
            return
        }
        var desired: [DesiredEntry] = []
        for peer in Peer.selectable(peers, localSubnet: localSubnet, publicIP: underlay.publicIP, into: &report) {
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
        reconciler.apply(desired, device: nil, into: &report)
    }
}
