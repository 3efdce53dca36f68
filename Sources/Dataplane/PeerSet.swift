import CNI
import SubnetRegistry
import NetTypes

/// The other nodes as the agent last heard of them from the registry, one per subnet: what
/// lets a batch of lease events become the few peer changes the dataplane has to make.
package struct PeerSet {
    /// This node's subnet: its own lease is never a peer.
    let ownSubnet: IPPrefix
    private(set) var bySubnet: [IPPrefix: Peer] = [:]

    package init(ownSubnet: IPPrefix) {
        self.ownSubnet = ownSubnet.network
    }

    /// Ids of the peers whose lease has an IPv6 half (for the per-family peer counts).
    package var ipv6PeerIDs: Set<String> {
        Set(bySubnet.values.lazy.filter { $0.ipv6Subnet != nil }.map(\.id))
    }

    /// The peer a lease describes.
    static func peer(_ lease: SubnetLease) -> Peer {
        Peer(subnet: lease.subnet, publicIP: lease.publicIP, vtepMAC: lease.vtepMAC,
             ipv6Subnet: lease.ipv6Subnet, publicIPv6: lease.publicIPv6,
             vtepMACv6: lease.vtepMACv6)
    }

    /// Starts over from a full listing; returns its peers in listing order (duplicates
    /// included, for the dataplane to report; the set keeps the first, as the dataplane does).
    package mutating func replace(with leases: [SubnetLease]) -> [Peer] {
        let peers = leases.filter { $0.subnet != ownSubnet }.map(Self.peer)
        bySubnet = Dictionary(peers.map { ($0.subnet, $0) }, uniquingKeysWith: { first, _ in first })
        return peers
    }

    /// Applies `events` in order and returns, per subnet, the peer before the batch and
    /// after it, in subnet order. Subnets that end up as they started (a renewal, a put
    /// undone by a delete in the same batch) are left out: there is nothing to do for them.
    package mutating func apply(_ events: [RegistryEvent]) -> [PeerChange] {
        var before: [IPPrefix: Peer?] = [:]
        for event in events {
            let subnet: IPPrefix
            let peer: Peer?
            switch event {
            case .put(let lease): (subnet, peer) = (lease.subnet, Self.peer(lease))
            case .delete(let key):
                guard let deleted = LeaseKey.parse(key) else { continue }
                // Another key than the peer's current one (its IPv4-only key removed after
                // it moved to a dual-stack one, or the reverse): the peer stays.
                if let known = bySubnet[deleted.subnet], known.ipv6Subnet != deleted.ipv6Subnet { continue }
                (subnet, peer) = (deleted.subnet, nil)
            }
            guard subnet != ownSubnet else { continue }
            if before.index(forKey: subnet) == nil { before.updateValue(bySubnet[subnet], forKey: subnet) }
            bySubnet[subnet] = peer
        }
        var changes: [PeerChange] = []
        for subnet in before.keys.sorted(by: { $0.address < $1.address }) {
            let old = before[subnet] ?? nil
            let new = bySubnet[subnet]
            if old != new { changes.append(PeerChange(old: old, new: new)) }
        }
        return changes
    }
}
