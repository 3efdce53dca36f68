import CNI
import SubnetRegistry
import NetTypes

/// Which peers a backend can build entries for at all. Whether a peer may be programmed
/// (its subnet inside the network, not overlapping this node's or an older peer's, a
/// unicast PublicIP and VtepMAC, the node's backend) is `LeaseAdmission`'s decision, made
/// before a lease becomes a peer; what is left here is what the entries themselves need:
/// addresses of the right family, one peer per destination (the kernel holds one route per
/// subnet, and the udp table one peer), and never an entry to the node itself.
extension Peer {
    /// Nil when the peer's v4 half has the shape an IPv4 entry needs; else why not.
    var problem: String? {
        guard subnet.family == .v4, publicIP.family == .v4 else {
            return "IPv6 subnets and public addresses are not supported yet"
        }
        return nil
    }

    /// Nil when the peer's v6 half can be built (in a dual-stack dataplane); else why not.
    /// The v4 half is judged apart: a peer without v6 data keeps its IPv4 entries and has
    /// only its v6 half reported.
    var ipv6Problem: String? {
        guard let ipv6Subnet, let publicIPv6 else {
            return "its lease has no " + (ipv6Subnet == nil ? "IPv6 subnet" : "PublicIPv6") + "; IPv6 half not programmed"
        }
        guard ipv6Subnet.family == .v6, publicIPv6.family == .v6 else {
            return "its IPv6 subnet or PublicIPv6 is not IPv6"
        }
        return nil
    }

    /// The peers whose v6 half to program (of peers already `selectable`); the others' v6
    /// halves are reported with family v6.
    static func selectableIPv6(_ selected: [Peer], into report: inout ReconcileReport) -> [Peer] {
        var seen = Set<IPPrefix>()
        return selected.filter { peer in
            var problem = peer.ipv6Problem
            if problem == nil, let subnet = peer.ipv6Subnet, !seen.insert(subnet).inserted {
                problem = "another peer already has IPv6 subnet \(subnet)"
            }
            guard let problem else { return true }
            report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: problem, family: .v6))
            return false
        }
    }

    /// The peers to build entries for: this node's own lease (same subnet and public IP, in
    /// a list handed over whole) dropped quietly, one peer per subnet (a duplicate is
    /// reported, never half-programmed), and of the right shape.
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
            if let problem = peer.problem {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: problem))
                continue
            }
            result.append(peer)
        }
        return result
    }
}
