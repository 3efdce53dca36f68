import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The host-gw backend: per peer the route `peer-subnet via peer-ip dev <underlay>`.
///
/// It needs L2 adjacency: a peer whose public IP is not inside a network directly connected
/// on the underlay (one of its addresses' prefixes) is not programmed but reported as
/// unreachable — flannel installs such a route anyway and the traffic silently disappears.
package struct HostGWDataplane: Dataplane, Sendable {
    package let underlay: Underlay
    /// This node's subnet: never routed to a peer.
    package let localSubnet: IPPrefix
    private var reconciler: Reconciler
    /// Peers to routes with the underlay networks the last full reconcile read; the
    /// incremental path judges adjacency by it (nil: no full reconcile read them yet).
    private var lastEntries: HostGWPeerEntries?

    package init(underlay: Underlay, localSubnet: IPPrefix, socket: RouteSocket) {
        self.underlay = underlay
        self.localSubnet = localSubnet.network
        self.reconciler = Reconciler(socket: socket)
    }

    package mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        let connected: [IPPrefix]
        do {
            connected = Underlay.connectedNetworks(of: underlay.index, in: try reconciler.socket.addresses(family: .v4))
            report.netlinkRoundTrips += 1
        } catch {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "addresses of \(underlay.name)", peerID: nil, reason: "\(error)"))
            return
        }
        let entries = HostGWPeerEntries(underlay: underlay, localSubnet: localSubnet, connected: connected)
        lastEntries = entries
        reconciler.apply(entries.desired(peers, into: &report), device: nil, into: &report)
    }

    package mutating func apply(_ changes: [PeerChange]) -> ReconcileReport {
        reconciler.applyChanges(changes, using: lastEntries, missing: "addresses of \(underlay.name)")
    }
}
