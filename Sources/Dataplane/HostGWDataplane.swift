import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The host-gw backend: per peer the route `peer-subnet via peer-ip dev <underlay>`.
///
/// It needs L2 adjacency: a peer whose public IP is not inside a network directly connected
/// on the underlay (one of its addresses' prefixes) is not programmed but reported as
/// unreachable — flannel installs such a route anyway and the traffic silently disappears.
///
/// Dual-stack (`localIPv6Subnet` set): also `peer-v6-subnet via peer-PublicIPv6 dev
/// <underlay>`, with the same adjacency check against the underlay's global IPv6 networks
/// (link-local ones do not count). Without an IPv6 address on the underlay it programs
/// nothing at all and says so: never a half-programmed node.
package struct HostGWDataplane: Dataplane, Sendable {
    package let underlay: Underlay
    /// This node's subnet: never routed to a peer.
    package let localSubnet: IPPrefix
    /// This node's v6 subnet; nil: IPv4 only.
    package let localIPv6Subnet: IPPrefix?
    private var reconciler: Reconciler
    /// Peers to routes with the underlay networks the last full reconcile read; the
    /// incremental path judges adjacency by it (nil: no full reconcile read them yet).
    private var lastEntries: HostGWPeerEntries?

    package init(underlay: Underlay, localSubnet: IPPrefix, localIPv6Subnet: IPPrefix? = nil, socket: RouteSocket) {
        self.underlay = underlay
        self.localSubnet = localSubnet.network
        self.localIPv6Subnet = localIPv6Subnet?.network
        self.reconciler = Reconciler(socket: socket)
    }

    package mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        if localIPv6Subnet != nil, let problem = underlay.ipv6Problem {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "IPv6 underlay", peerID: nil, reason: problem + "; nothing programmed"))
            return
        }
        let addresses: [InterfaceAddress]
        do {
            addresses = try reconciler.socket.addresses(family: localIPv6Subnet == nil ? .v4 : nil)
            report.netlinkRoundTrips += 1
        } catch {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "addresses of \(underlay.name)", peerID: nil, reason: "\(error)"))
            return
        }
        var entries = HostGWPeerEntries(underlay: underlay, localSubnet: localSubnet,
                                        connected: Underlay.connectedNetworks(of: underlay.index, in: addresses))
        if let localIPv6Subnet {
            entries.localIPv6Subnet = localIPv6Subnet
            entries.connectedIPv6 = Underlay.connectedIPv6Networks(of: underlay.index, in: addresses)
        }
        lastEntries = entries
        reconciler.apply(entries.desired(peers, into: &report), device: nil,
                         ipv6: localIPv6Subnet == nil ? nil : .some(nil), into: &report)
    }

    package mutating func apply(_ changes: [PeerChange]) -> ReconcileReport {
        reconciler.applyChanges(changes, using: lastEntries, missing: "addresses of \(underlay.name)")
    }
}
