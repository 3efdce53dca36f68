import CNI
import SubnetRegistry
import NetTypes

/// Which peers a backend can program at all, checked before any entry is built.
extension Peer {
    /// Nil when the peer can be programmed; else why not. The node's own lease (same
    /// subnet or same public IP) is not a peer and is dropped by `selectable` instead.
    func problem(localSubnet: IPPrefix) -> String? {
        guard subnet.family == .v4, publicIP.family == .v4 else {
            return "IPv6 subnets and public addresses are not supported yet"
        }
        if subnet.overlaps(localSubnet) { return "subnet overlaps this node's subnet \(localSubnet)" }
        return nil
    }

    /// The peers to consider: this node's own lease removed, and one peer per subnet (the
    /// registry holds one lease per subnet; a duplicate is reported, never half-programmed).
    static func selectable(_ peers: [Peer], localSubnet: IPPrefix, publicIP: IPAddress,
                           into report: inout ReconcileReport) -> [Peer] {
        var seen = Set<IPPrefix>()
        var result: [Peer] = []
        for peer in peers {
            if peer.subnet == localSubnet.network && peer.publicIP == publicIP { continue }
            guard seen.insert(peer.subnet).inserted else {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: "another peer already has subnet \(peer.subnet)"))
                continue
            }
            if let problem = peer.problem(localSubnet: localSubnet) {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: problem))
                continue
            }
            result.append(peer)
        }
        return result
    }
}
