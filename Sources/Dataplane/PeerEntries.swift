import CNI
import SubnetRegistry
import NetTypes

/// How a backend turns peers into kernel entries, together with what it had to read from
/// the node for that (the VXLAN device, the underlay's directly connected networks). A full
/// reconcile reads those afresh and keeps the result; the incremental path reuses the kept
/// one, so a lease event costs no reads at all.
protocol PeerEntries: Sendable {
    /// This node's subnet and underlay address: its own lease is never a peer.
    var localSubnet: IPPrefix { get }
    var publicIP: IPAddress { get }

    /// The entries of peers that passed `Peer.selectable`; peers this backend cannot
    /// program are reported into `report` instead.
    func entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry]
}

extension PeerEntries {
    /// Selection, then entries: the desired state for `peers`.
    func desired(_ peers: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        entries(Peer.selectable(peers, localSubnet: localSubnet, publicIP: publicIP, into: &report), into: &report)
    }
}
