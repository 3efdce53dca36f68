import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane

/// The host-gw backend dual-stack: a route per family per peer, each judged apart.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct DualStackHostGWDataplaneTests {
    static func dataplane(_ testbed: DataplaneTestbed, _ i: Int) throws -> HostGWDataplane {
        HostGWDataplane(underlay: try testbed.dualStackUnderlay(i), localSubnet: testbed.nodes[i - 1].subnet,
                        localIPv6Subnet: DataplaneTestbed.ipv6Subnet(i), socket: testbed.nodes[i - 1].socket)
    }

    static func peers(_ testbed: DataplaneTestbed) -> [Peer] {
        testbed.nodes.indices.map { DataplaneTestbed.dualStackPeer($0 + 1, v4: testbed.nodes[$0].address) }
    }

    @Test func routesBothFamiliesAndPing6Works() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        try testbed.addIPv6Underlay()
        let peers = Self.peers(testbed)
        for i in 1...2 {
            var dataplane = try Self.dataplane(testbed, i)
            let report = dataplane.reconcile(peers)
            #expect(report.added == 2 && report.ipv6.added == 1 && report.ipv4.added == 1, "\(report)")
            #expect(report.programmedPeers == [peers[2 - i].id] && report.succeeded, "\(report)")
            let again = dataplane.reconcile(peers)  // the v6 route reads back equal (metric 1024)
            #expect(again.unchanged == 2 && again.ipv6.unchanged == 1 && again.added + again.removed + again.repaired == 0,
                    "\(again)")
        }
        let node1 = testbed.nodes[0]
        let eth0 = try #require(try node1.socket.link(named: "eth0")).index
        let route = try #require(try DataplaneTestbed.ourRoutes(node1, .v6).first)
        #expect(route.destination == DataplaneTestbed.ipv6Subnet(2) && route.gateway == DataplaneTestbed.ipv6Address(2)
                && route.outputIndex == eth0 && !route.onlink)

        let gateway1 = try testbed.addPodGateway(node1)
        let gateway2 = try testbed.addPodGateway(testbed.nodes[1])
        #expect(try testbed.pings(from: node1, source: gateway1, to: gateway2))
        let v6gateway1 = try testbed.addIPv6PodGateway(1)
        let v6gateway2 = try testbed.addIPv6PodGateway(2)
        #expect(try testbed.pings6(from: node1, source: v6gateway1, to: v6gateway2))
        #expect(try testbed.pings6(from: testbed.nodes[1], source: v6gateway2, to: v6gateway1))
    }

    @Test func withoutAnIPv6UnderlayNothingIsProgrammed() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let underlay = try testbed.dualStackUnderlay(1)
        #expect(underlay.localIPv6 == nil && underlay.publicIPv6 == nil)
        #expect(underlay.ipv6Problem?.hasPrefix("eth0 has no global IPv6 address") == true)
        var dataplane = try Self.dataplane(testbed, 1)
        let report = dataplane.reconcile([DataplaneTestbed.dualStackPeer(2, v4: IPAddress("192.168.50.12")!)])
        #expect(report.added == 0 && report.programmedPeers.isEmpty && report.failures.map(\.entry) == ["IPv6 underlay"],
                "\(report)")
        #expect(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v4).isEmpty)
        #expect(!dataplane.apply([PeerChange(old: nil, new: DataplaneTestbed.dualStackPeer(3, v4: IPAddress("192.168.50.13")!))])
                .succeeded)
        #expect(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v4).isEmpty)
    }

    @Test func halvesAreJudgedApart() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        try testbed.addIPv6Underlay()
        var dataplane = try Self.dataplane(testbed, 1)
        let far = Peer(subnet: IPPrefix("10.244.8.0/24")!, publicIP: IPAddress("192.168.50.8")!,
                       ipv6Subnet: DataplaneTestbed.ipv6Subnet(8), publicIPv6: IPAddress("fd00:60::8"))
        let v4only = Peer(subnet: IPPrefix("10.244.9.0/24")!, publicIP: IPAddress("192.168.50.9")!)
        let linkLocal = Peer(subnet: IPPrefix("10.244.7.0/24")!, publicIP: IPAddress("192.168.50.7")!,
                             ipv6Subnet: DataplaneTestbed.ipv6Subnet(7), publicIPv6: IPAddress("fe80::7"))
        let report = dataplane.reconcile([far, v4only, linkLocal])
        #expect(report.ipv4.added == 3 && report.ipv6.added == 0 && report.succeeded, "\(report)")
        #expect(report.programmedPeers == [far.id, v4only.id, linkLocal.id])
        // Missing v6 data is found at selection, adjacency afterwards.
        #expect(report.unreachable(.v4).isEmpty && report.unreachable(.v6).map(\.peer) == [v4only, far, linkLocal])
        #expect(report.unreachable(.v6).map(\.reason) == [
            "its lease has no IPv6 subnet; IPv6 half not programmed",
            "fd00:60::8 is not on a network directly connected to eth0 (fd00:50::/64); host-gw needs the nodes on one L2 segment",
            "fe80::7 is not on a network directly connected to eth0 (fd00:50::/64); host-gw needs the nodes on one L2 segment",
        ])
        #expect(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v6).isEmpty)
        #expect(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v4).count == 3)
    }

    @Test func repairsAHandDeletedIPv6RouteAndFollowsChanges() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        try testbed.addIPv6Underlay()
        let node = testbed.nodes[0]
        var dataplane = try Self.dataplane(testbed, 1)
        let peers = (2...3).map { DataplaneTestbed.dualStackPeer($0, v4: IPAddress("192.168.50.\(10 + $0)")!) }
        #expect(dataplane.reconcile(peers).added == 4)

        let route = try #require(try DataplaneTestbed.ourRoutes(node, .v6).first { $0.destination == peers[0].ipv6Subnet })
        try node.socket.deleteRoute(route)
        let repaired = dataplane.reconcile(peers)
        #expect(repaired.repaired == 1 && repaired.ipv6.repaired == 1 && repaired.unchanged == 3 && repaired.succeeded,
                "\(repaired)")

        // Incremental: peer 3 leaves, peer 4 joins, peer 2's v6 next hop moves.
        let moved = Peer(subnet: peers[0].subnet, publicIP: peers[0].publicIP, ipv6Subnet: peers[0].ipv6Subnet,
                         publicIPv6: IPAddress("fd00:50::99"))
        let joined = DataplaneTestbed.dualStackPeer(4, v4: IPAddress("192.168.50.14")!)
        let changed = dataplane.apply([PeerChange(old: peers[0], new: moved), PeerChange(old: peers[1], new: nil),
                                       PeerChange(old: nil, new: joined)])
        #expect(changed.ipv6.added == 1 && changed.ipv6.removed == 1 && changed.ipv6.repaired == 1, "\(changed)")
        #expect(changed.ipv4.added == 1 && changed.ipv4.removed == 1 && changed.ipv4.unchanged == 1 && changed.succeeded,
                "\(changed)")
        #expect(changed.programmedPeers == [moved.id, joined.id])
        let v6 = try DataplaneTestbed.ourRoutes(node, .v6)
        #expect(Set(v6.map(\.destination)) == [moved.ipv6Subnet!, joined.ipv6Subnet!])
        #expect(v6.first { $0.destination == moved.ipv6Subnet }?.gateway == moved.publicIPv6)

        let full = dataplane.reconcile([moved, joined])
        #expect(full.unchanged == 4 && full.added + full.removed + full.repaired == 0 && full.succeeded, "\(full)")
    }
}
