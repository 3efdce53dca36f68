import Glibc
import NetTypes
import Netlink
import Testing
import UDPTunnel
@testable import Dataplane

/// The udp backend between testbed nodes: flannel0, its route, the tunnel's peer table.
/// Everything that opens the device or writes its sysctl runs inside the node's namespace.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct UDPDataplaneTests {
    static let network = IPPrefix("10.244.0.0/16")!

    static func dataplane(_ node: DataplaneTestbed.Node, path: UDPTunnelPath = .automatic) throws -> UDPDataplane {
        try node.namespace.run {
            let underlay = try Underlay.resolve(interface: "eth0", socket: node.socket)
            return try UDPDataplane(
                configuration: UDPTunnelConfiguration(publicAddress: node.address, network: network, ownSubnet: node.subnet, path: path),
                underlay: underlay, mtu: nil, socket: node.socket)
        }
    }

    static func reconcile(_ dataplane: inout UDPDataplane, in node: DataplaneTestbed.Node, _ peers: [Peer]) throws -> ReconcileReport {
        var copy = dataplane
        let report = try node.namespace.run { copy.reconcile(peers) }
        dataplane = copy
        return report
    }

    @Test func setsUpFlannel0AndCarriesTrafficBetweenNodes() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        let nodes = testbed.nodes
        let peers = nodes.map { Peer(subnet: $0.subnet, publicIP: $0.address) }
        var dataplanes = try nodes.map { try Self.dataplane($0) }
        for i in 0..<2 {
            let report = try Self.reconcile(&dataplanes[i], in: nodes[i], peers)  // its own lease is in the list too
            #expect(report.programmedPeers == [peers[1 - i].id] && report.succeeded, "\(report)")
            #expect(report.added == 2, "the network route and one peer: \(report)")
        }
        let socket = nodes[0].socket
        let device = try #require(try socket.link(named: "flannel0"))
        #expect(device.mtu == 1500 - 28 && device.isUp)
        #expect(try socket.addresses(family: .v4, index: device.index).map(\.prefix) == [IPPrefix("10.244.1.0/32")!])
        let route = try #require(try socket.routes(family: .v4).first { $0.destination == Self.network })
        #expect(route.outputIndex == device.index && route.gateway == nil && route.routeProtocol == .swiftCNI)
        #expect(try testbed.inside(nodes[0], ["cat", "/proc/sys/net/ipv6/conf/flannel0/disable_ipv6"]) == "1\n")

        let gateway1 = try testbed.addPodGateway(nodes[0])
        let gateway2 = try testbed.addPodGateway(nodes[1])
        #expect(try testbed.pings(from: nodes[0], source: gateway1, to: gateway2))
        // A worker counts right after its send or write, so under load the reply can reach
        // ping before the count does: wait for it a little.
        var traffic: UDPPeerTraffic?
        for _ in 0..<100 {
            traffic = dataplanes[0].tunnel.statistics().peers[nodes[1].subnet]
            if (traffic?.packetsOut ?? 0) >= 1 && (traffic?.packetsIn ?? 0) >= 1 { break }
            usleep(10_000)
        }
        #expect((traffic?.packetsOut ?? 0) >= 1 && (traffic?.packetsIn ?? 0) >= 1, "\(String(describing: traffic))")
    }

    /// A subnet outside the cluster network never reaches the dataplane: LeaseAdmission
    /// rejects it (outside_network, LeaseAdmissionTests).
    @Test func incrementalChanges() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        var dataplane = try Self.dataplane(node)
        let inside = Peer(subnet: IPPrefix("10.244.7.0/24")!, publicIP: IPAddress("192.168.50.7")!)
        let first = try Self.reconcile(&dataplane, in: node, [inside])
        #expect(first.programmedPeers == [inside.id])
        #expect(first.unreachablePeers.isEmpty)

        let moved = Peer(subnet: inside.subnet, publicIP: IPAddress("192.168.50.9")!)
        let joined = Peer(subnet: IPPrefix("10.244.9.0/24")!, publicIP: IPAddress("192.168.50.10")!)
        let step = dataplane.apply([PeerChange(old: inside, new: moved), PeerChange(old: nil, new: joined)])
        #expect(step.succeeded && Set(step.programmedPeers) == [moved.id, joined.id] && step.removed == 1 && step.added == 2, "\(step)")
        let left = dataplane.apply([PeerChange(old: joined, new: nil)])
        #expect(left.removed == 1 && left.programmedPeers.isEmpty)
        // A full pass with the same peers changes nothing.
        let again = try Self.reconcile(&dataplane, in: node, [moved])
        #expect(again.added == 0 && again.removed == 0 && again.programmedPeers == [moved.id], "\(again)")
    }

    @Test func reopensADeletedDeviceAndRestoresItsRoute() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        var dataplane = try Self.dataplane(node, path: .plain)
        let peer = Peer(subnet: IPPrefix("10.244.7.0/24")!, publicIP: IPAddress("192.168.50.7")!)
        _ = try Self.reconcile(&dataplane, in: node, [peer])
        let before = try #require(try node.socket.link(named: "flannel0"))
        try testbed.inside(node, ["ip", "link", "del", "flannel0"])
        let report = try Self.reconcile(&dataplane, in: node, [peer])
        let after = try #require(try node.socket.link(named: "flannel0"))
        #expect(after.index != before.index && after.mtu == 1472 && after.isUp)
        #expect(report.succeeded && report.programmedPeers == [peer.id], "\(report)")
        #expect(try node.socket.routes(family: .v4).contains { $0.destination == Self.network && $0.outputIndex == after.index })
    }
}
