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

    /// This node's v6 subnet in a dual-stack dataplane; nil: IPv4 only.
    var localIPv6Subnet: IPPrefix? { get }

    /// The v6 entries of peers that passed `Peer.selectableIPv6`.
    func ipv6Entries(_ selected: [Peer], into report: inout ReconcileReport) -> [DesiredEntry]
}

extension PeerEntries {
    /// Selection, then entries: the desired state for `peers`.
    /// Dual-stack: each peer's v4 half, then the v6 halves (judged apart, so a peer lacking
    /// v6 data still gets its IPv4 entries).
    func desired(_ peers: [Peer], into report: inout ReconcileReport) -> [DesiredEntry] {
        let selected = Peer.selectable(peers, localSubnet: localSubnet, publicIP: publicIP, into: &report)
        let v4 = entries(selected, into: &report)
        guard let localIPv6Subnet else { return v4 }
        return v4 + ipv6Entries(Peer.selectableIPv6(selected, into: &report), into: &report)
    }
}
