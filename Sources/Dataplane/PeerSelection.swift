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

    /// Nil when the peer's v6 half can be programmed next to `localIPv6Subnet` (this node's
    /// v6 subnet, in a dual-stack dataplane); else why not. The v4 half is judged apart: a
    /// peer without v6 data keeps its IPv4 entries and has only its v6 half reported.
    func ipv6Problem(localIPv6Subnet: IPPrefix) -> String? {
        guard let ipv6Subnet, let publicIPv6 else {
            return "its lease has no " + (ipv6Subnet == nil ? "IPv6 subnet" : "PublicIPv6") + "; IPv6 half not programmed"
        }
        guard ipv6Subnet.family == .v6, publicIPv6.family == .v6 else {
            return "its IPv6 subnet or PublicIPv6 is not IPv6"
        }
        if ipv6Subnet.overlaps(localIPv6Subnet) { return "IPv6 subnet overlaps this node's IPv6 subnet \(localIPv6Subnet)" }
        return nil
    }

    /// The peers whose v6 half to program (of peers already `selectable`); the others' v6
    /// halves are reported with family v6.
    static func selectableIPv6(_ selected: [Peer], localIPv6Subnet: IPPrefix, into report: inout ReconcileReport) -> [Peer] {
        var seen = Set<IPPrefix>()
        return selected.filter { peer in
            var problem = peer.ipv6Problem(localIPv6Subnet: localIPv6Subnet)
            if problem == nil, let subnet = peer.ipv6Subnet, !seen.insert(subnet).inserted {
                problem = "another peer already has IPv6 subnet \(subnet)"
            }
            guard let problem else { return true }
            report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: problem, family: .v6))
            return false
        }
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
