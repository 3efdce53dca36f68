import Glibc
import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The host-gw backend between testbed nodes.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct HostGWDataplaneTests {
    static func dataplane(_ node: DataplaneTestbed.Node) throws -> HostGWDataplane {
        HostGWDataplane(underlay: try Underlay.resolve(interface: "eth0", socket: node.socket), localSubnet: node.subnet,
                        socket: node.socket)
    }

    @Test func routesPeersOverTheUnderlayAndPingWorks() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        let (node1, node2) = (testbed.nodes[0], testbed.nodes[1])
        var dataplanes = [try Self.dataplane(node1), try Self.dataplane(node2)]
        let peers = [Peer(subnet: node1.subnet, publicIP: node1.address), Peer(subnet: node2.subnet, publicIP: node2.address)]
        for i in 0..<2 {
            let report = dataplanes[i].reconcile(peers)  // each node's own lease is in the list too
            #expect(report.added == 1 && report.programmedPeers == [peers[1 - i].id] && report.succeeded, "\(report)")
        }
        let eth0 = try #require(try node1.socket.link(named: "eth0")).index
        let route = try #require(try node1.socket.routes(family: .v4).first { $0.destination == node2.subnet })
        #expect(route.gateway == node2.address && route.outputIndex == eth0 && route.routeProtocol == .swiftCNI && !route.onlink)

        let gateway1 = try testbed.addPodGateway(node1)
        let gateway2 = try testbed.addPodGateway(node2)
        #expect(try testbed.pings(from: node1, source: gateway1, to: gateway2))
    }

    @Test func nonAdjacentPeerIsReportedAndNotRouted() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        var dataplane = try Self.dataplane(testbed.nodes[0])
        let far = Peer(subnet: IPPrefix("10.244.8.0/24")!, publicIP: IPAddress("192.168.60.8")!)
        let near = Peer(subnet: IPPrefix("10.244.9.0/24")!, publicIP: IPAddress("192.168.50.9")!)
        let report = dataplane.reconcile([far, near])
        #expect(report.added == 1 && report.programmedPeers == [near.id])
        #expect(report.unreachablePeers.map(\.peer) == [far])
        #expect(report.unreachablePeers.first?.reason
                == "192.168.60.8 is not on a network directly connected to eth0 (192.168.50.0/24); host-gw needs the nodes on one L2 segment")
        #expect(!(try testbed.nodes[0].socket.routes(family: .v4)).contains { $0.destination == far.subnet })
    }

    @Test func restoresDeletedRoutesRemovesStaleOnesAndLeavesOthersAlone() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        var dataplane = try Self.dataplane(testbed.nodes[0])
        let eth0 = try #require(try socket.link(named: "eth0")).index
        let peers = (2...4).map { Peer(subnet: IPPrefix("10.244.\($0).0/24")!, publicIP: IPAddress("192.168.50.\($0)")!) }
        // Someone else routes 10.244.4.0/24: ours would collide, so it is reported, not replaced.
        try socket.addRoute(Route(destination: peers[2].subnet, gateway: IPAddress("192.168.50.200"), outputIndex: eth0))
        let first = dataplane.reconcile(peers)
        #expect(first.added == 2 && first.failures.map(\.peerID) == [peers[2].id], "\(first)")
        #expect(try socket.routes(family: .v4).first { $0.destination == peers[2].subnet }?.gateway == IPAddress("192.168.50.200"))

        try socket.deleteRoute(Route(destination: peers[0].subnet, gateway: peers[0].publicIP, outputIndex: eth0))
        let repaired = dataplane.reconcile(Array(peers[0...1]))
        #expect(repaired.repaired == 1 && repaired.unchanged == 1 && repaired.succeeded, "\(repaired)")

        // A peer that moved gets its route rewritten in place; a peer that left loses its route.
        let moved = Peer(subnet: peers[0].subnet, publicIP: IPAddress("192.168.50.22")!)
        let changed = dataplane.reconcile([moved])
        #expect(changed.repaired == 1 && changed.removed == 1 && changed.succeeded, "\(changed)")
        let ours = try socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }
        #expect(ours.map(\.destination) == [moved.subnet] && ours.first?.gateway == moved.publicIP)
        #expect(try socket.routes(family: .v4).contains { $0.destination == peers[2].subnet })
    }
}
