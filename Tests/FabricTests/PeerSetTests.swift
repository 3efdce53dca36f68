import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// Lease events folded into peer changes.
struct PeerSetTests {
    static let own = IPPrefix("10.244.1.0/24")!

    static func lease(_ subnet: Int, mac last: UInt8 = 1, ip: String = "192.168.50.20") -> SubnetLease {
        SubnetLease(subnet: IPPrefix("10.244.\(subnet).0/24")!, publicIP: IPAddress(ip)!, backendType: "vxlan",
                    backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress(bytes: [0x02, 0, 0, 0, 0, last])!))
    }

    @Test func listingSkipsTheOwnLeaseAndKeepsTheFirstOfASubnet() {
        var set = PeerSet(ownSubnet: Self.own)
        let peers = set.replace(with: [Self.lease(1), Self.lease(2), Self.lease(2, mac: 9)])
        #expect(peers.map(\.id) == ["10.244.2.0-24", "10.244.2.0-24"])  // the dataplane reports the duplicate
        #expect(set.bySubnet[IPPrefix("10.244.2.0/24")!] == PeerSet.peer(Self.lease(2)))
    }

    /// A node turning IPv6 on creates its dual-stack key, then deletes its IPv4-only one (and
    /// the reverse when turning it off): the delete of the key it no longer uses must not
    /// remove the peer.
    @Test func deletingAPeersOtherKeyKeepsThePeer() {
        var set = PeerSet(ownSubnet: Self.own)
        _ = set.replace(with: [Self.lease(2)])
        var dual = Self.lease(2)
        dual.ipv6Subnet = IPPrefix("fd00:0:0:2::/64")!
        dual.publicIPv6 = IPAddress("fd00:50::20")!
        let v4 = IPPrefix("10.244.2.0/24")!
        let changes = set.apply([.put(dual), .delete(storedKey: "10.244.2.0-24")])
        #expect(changes.map(\.new) == [PeerSet.peer(dual)])
        #expect(set.bySubnet[v4] == PeerSet.peer(dual))
        // Back to IPv4 only: the put of the IPv4 key, then the delete of the dual one.
        #expect(set.apply([.put(Self.lease(2)), .delete(storedKey: dual.key)]).map(\.new) == [PeerSet.peer(Self.lease(2))])
        // The key the peer uses now, deleted: the peer goes.
        #expect(set.apply([.delete(storedKey: "10.244.2.0-24")]).map(\.new) == [nil])
    }

    @Test func eventsBecomeOneChangePerSubnetInSubnetOrder() {
        var set = PeerSet(ownSubnet: Self.own)
        _ = set.replace(with: [Self.lease(2), Self.lease(3)])
        let changes = set.apply([
            .put(Self.lease(4)),                          // new
            .put(Self.lease(2, mac: 5)),                  // new MAC ...
            .put(Self.lease(2, mac: 6)),                  // ... twice: one change, first to last
            .delete(storedKey: "10.244.3.0-24"),          // gone
            .put(Self.lease(1, ip: "192.168.50.99")),     // our own subnet: never a peer
        ])
        #expect(changes == [
            PeerChange(old: PeerSet.peer(Self.lease(2)), new: PeerSet.peer(Self.lease(2, mac: 6))),
            PeerChange(old: PeerSet.peer(Self.lease(3)), new: nil),
            PeerChange(old: nil, new: PeerSet.peer(Self.lease(4))),
        ])
        #expect(set.bySubnet.keys.count == 2)
    }

    @Test func renewalsAndUndoneChangesAreNoChange() {
        var set = PeerSet(ownSubnet: Self.own)
        _ = set.replace(with: [Self.lease(2)])
        var renewed = Self.lease(2)
        renewed.expiration = 12345
        #expect(set.apply([.put(renewed)]).isEmpty)
        #expect(set.apply([.put(Self.lease(7)), .delete(storedKey: "10.244.7.0-24")]).isEmpty)
        #expect(set.apply([.delete(storedKey: "10.244.8.0-24")]).isEmpty)  // never known
    }
}
