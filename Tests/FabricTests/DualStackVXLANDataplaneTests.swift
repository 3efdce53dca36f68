import CNI
import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane

/// The VXLAN backend dual-stack: `flannel-v6.<VNI>` over the IPv6 underlay next to `flannel.<VNI>`.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct DualStackVXLANDataplaneTests {
    static func macV6(_ n: Int) -> MACAddress { VXLANDataplaneTests.macV6(n) }

    static func overlay(_ testbed: DataplaneTestbed) throws -> [(VXLANDataplane, [Peer])] {
        try VXLANDataplaneTests.overlay(testbed, dualStack: true)
    }

    @Test func ping6CrossesTheV6OverlayAsVXLANOverIPv6() throws {
        let testbed = try DataplaneTestbed(nodes: 3)
        try testbed.addIPv6Underlay()
        var overlay = try Self.overlay(testbed)
        var gateways: [IPAddress] = []
        for i in overlay.indices {
            let report = overlay[i].0.reconcile(overlay[i].1)
            #expect(report.succeeded, "\(report.failures)")
            #expect(report.ipv4.added == 6 && report.ipv6.added == 6 && report.programmedPeers.count == 2, "\(report)")
            gateways.append(try testbed.addIPv6PodGateway(i + 1))
        }
        let node1 = testbed.nodes[0]
        let eth0 = try #require(try node1.socket.link(named: "eth0"))
        let device = try #require(try node1.socket.link(named: "flannel-v6.1"))
        #expect(device.mtu == eth0.mtu - 70 && device.isUp && device.mac == Self.macV6(1))
        #expect(device.vxlan == VXLANSettings(vni: 1, local: DataplaneTestbed.ipv6Address(1), underlayIndex: eth0.index,
                                              port: 8472, learning: false))
        let global = try node1.socket.addresses(family: .v6, index: device.index).filter { $0.scope != .link }
        #expect(global.map(\.prefix) == [IPPrefix("fd00:244:1::/128")!])
        let neighbours = try node1.socket.neighbours(family: .v6, index: device.index).filter(\.isPermanent)
        #expect(neighbours.contains { $0.address == IPAddress("fd00:244:2::") && $0.mac == Self.macV6(2) })
        #expect(try node1.socket.fdbEntries(index: device.index).contains {
            $0.mac == Self.macV6(3) && $0.destination == DataplaneTestbed.ipv6Address(3)
        })
        let route = try #require(try DataplaneTestbed.ourRoutes(node1, .v6).first { $0.destination == DataplaneTestbed.ipv6Subnet(2) })
        #expect(route.gateway == IPAddress("fd00:244:2::") && route.outputIndex == device.index && route.onlink)

        // Count VXLAN-over-IPv6 packets arriving at node 2's underlay port.
        let arrivals = try testbed.countVXLANArrivals(at: testbed.nodes[1], family: .v6)
        #expect(try testbed.pings6(from: node1, source: gateways[0], to: gateways[1]))
        #expect(try testbed.pings6(from: node1, source: gateways[0], to: gateways[2]))
        #expect(try testbed.pings6(from: testbed.nodes[2], source: gateways[2], to: gateways[1]))
        #expect(try arrivals() >= 2)
        // And the v4 overlay still works next to it.
        let v4gateways = try testbed.nodes.map { try testbed.addPodGateway($0) }
        #expect(try testbed.pings(from: node1, source: v4gateways[0], to: v4gateways[1]))

        let again = overlay[0].0.reconcile(overlay[0].1)
        #expect(again.unchanged == 12 && again.ipv6.unchanged == 6 && again.added + again.removed + again.repaired == 0
                && again.succeeded, "\(again)")
    }

    @Test func repairsHandDeletedV6EntriesAndReplacesAStaleV6MAC() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        try testbed.addIPv6Underlay()
        var (dataplane, peers) = try Self.overlay(testbed)[0]
        let socket = testbed.nodes[0].socket
        #expect(dataplane.reconcile(peers).ipv6.added == 3)
        let device = try #require(try socket.link(named: "flannel-v6.1")).index
        let peer = peers[0]
        let subnet = try #require(peer.ipv6Subnet)

        try socket.deleteNeighbour(subnet.address, index: device)
        try socket.deleteFDBEntry(mac: peer.vtepMACv6!, destination: peer.publicIPv6!, index: device)
        let route = try #require(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v6).first)
        try socket.deleteRoute(route)
        let repaired = dataplane.reconcile(peers)
        #expect(repaired.repaired == 3 && repaired.ipv6.repaired == 3 && repaired.unchanged == 3 && repaired.succeeded,
                "\(repaired)")

        // The peer's v6 VTEP MAC changed: the old FDB entry and neighbour must not linger.
        let rebooted = Peer(subnet: peer.subnet, publicIP: peer.publicIP, vtepMAC: peer.vtepMAC, ipv6Subnet: subnet,
                            publicIPv6: peer.publicIPv6, vtepMACv6: Self.macV6(42))
        let changed = dataplane.reconcile([rebooted])
        #expect(changed.ipv6 == FamilyCounts(added: 1, removed: 1, repaired: 1, unchanged: 1), "\(changed)")
        #expect(changed.ipv4.unchanged == 3 && changed.succeeded, "\(changed)")
        #expect(try socket.fdbEntries(index: device).map(\.mac) == [Self.macV6(42)])
        #expect(try socket.neighbours(family: .v6, index: device).filter(\.isPermanent).map(\.mac) == [Self.macV6(42)])

        // A deleted v6 device comes back with its entries.
        try socket.deleteLink(index: device)
        let restored = dataplane.reconcile([rebooted])
        #expect(restored.ipv6.repaired == 3 && restored.ipv4.unchanged == 3 && restored.succeeded, "\(restored)")
        #expect(try socket.link(named: "flannel-v6.1")?.isUp == true)

        let gone = dataplane.reconcile([])
        #expect(gone.removed == 6 && gone.ipv6.removed == 3 && gone.succeeded, "\(gone)")
        #expect(try DataplaneTestbed.ourRoutes(testbed.nodes[0], .v6).isEmpty)
    }

    @Test func incrementalChangesTouchBothHalves() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        try testbed.addIPv6Underlay()
        var (dataplane, _) = try Self.overlay(testbed)[0]
        let socket = testbed.nodes[0].socket
        let peer = { (n: Int, macV6: Int?) in
            DataplaneTestbed.dualStackPeer(n, v4: IPAddress("192.168.60.\(n)")!, mac: VXLANDataplaneTests.mac(n),
                                           macV6: macV6.map(Self.macV6))
        }
        let (a, b) = (peer(2, 2), peer(3, 3))
        #expect(dataplane.reconcile([a]).added == 6)
        let rebooted = peer(2, 22)
        let noV6MAC = peer(4, nil)
        let report = dataplane.apply([PeerChange(old: a, new: rebooted), PeerChange(old: nil, new: b),
                                      PeerChange(old: nil, new: noV6MAC)])
        #expect(report.ipv6 == FamilyCounts(added: 4, removed: 1, repaired: 1, unchanged: 1), "\(report)")
        #expect(report.ipv4.added == 6 && report.ipv4.unchanged == 3 && report.succeeded && report.netlinkRoundTrips == 1,
                "\(report)")
        #expect(report.programmedPeers == [rebooted.id, b.id, noV6MAC.id])
        #expect(report.unreachable(.v6).map(\.reason) == ["its lease has no BackendV6Data VtepMAC"])
        let device = try #require(try socket.link(named: "flannel-v6.1")).index
        #expect(Set(try socket.fdbEntries(index: device).map(\.mac)) == [Self.macV6(22), Self.macV6(3)])

        let removed = dataplane.apply([PeerChange(old: b, new: nil)])
        #expect(removed.removed == 6 && removed.ipv6.removed == 3 && removed.succeeded, "\(removed)")
        let full = dataplane.reconcile([rebooted, noV6MAC])
        #expect(full.unchanged == 9 && full.added + full.removed + full.repaired == 0 && full.succeeded, "\(full)")
    }

    @Test func withoutAnIPv6UnderlayOrMACNothingIsMade() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        let configuration = VXLANConfiguration(localSubnet: node.subnet, mac: VXLANDataplaneTests.mac(1),
                                               localIPv6Subnet: DataplaneTestbed.ipv6Subnet(1), macV6: Self.macV6(1))
        var dataplane = VXLANDataplane(configuration: configuration, underlay: try testbed.dualStackUnderlay(1), socket: node.socket)
        let report = dataplane.reconcile([DataplaneTestbed.dualStackPeer(2, v4: IPAddress("192.168.50.12")!,
                                                                         mac: VXLANDataplaneTests.mac(2), macV6: Self.macV6(2))])
        #expect(report.added == 0 && report.failures.map(\.entry) == ["device flannel-v6.1"], "\(report)")
        #expect(report.failures.first?.reason.hasPrefix("eth0 has no global IPv6 address") == true)
        #expect(throws: DataplaneError.self) { try dataplane.ensureDevice() }
        #expect(try node.socket.link(named: "flannel.1") == nil && node.socket.link(named: "flannel-v6.1") == nil)

        try testbed.addIPv6Underlay()
        var noMAC = configuration
        noMAC.macV6 = nil
        var withoutMAC = VXLANDataplane(configuration: noMAC, underlay: try testbed.dualStackUnderlay(1), socket: node.socket)
        #expect(withoutMAC.reconcile([]).failures.map(\.reason) == ["no MAC for flannel-v6.1 was given; nothing programmed"])
        #expect(try node.socket.link(named: "flannel.1") == nil)
    }
}

/// DirectRouting dual-stack: an adjacent peer's v6 half goes over the underlay too.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct DualStackDirectRoutingTests {
    @Test func adjacentV6PeersGetAPlainRouteAndFarOnesTheTunnel() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        try testbed.addIPv6Underlay()
        var (dataplane, peers) = try VXLANDataplaneTests.overlay(testbed, directRouting: true, dualStack: true)[0]
        let far = Peer(subnet: IPPrefix("10.244.7.0/24")!, publicIP: IPAddress("172.16.0.7")!, vtepMAC: VXLANDataplaneTests.mac(7),
                       ipv6Subnet: DataplaneTestbed.ipv6Subnet(7), publicIPv6: IPAddress("fd00:60::7"),
                       vtepMACv6: VXLANDataplaneTests.macV6(7))
        let report = dataplane.reconcile(peers + [far])
        #expect(report.ipv6.added == 4 && report.ipv4.added == 4 && report.succeeded, "\(report)")
        let node = testbed.nodes[0]
        let eth0 = try #require(try node.socket.link(named: "eth0")).index
        let routes = try DataplaneTestbed.ourRoutes(node, .v6)
        #expect(routes.contains { $0.destination == DataplaneTestbed.ipv6Subnet(2) && $0.gateway == DataplaneTestbed.ipv6Address(2)
                                  && $0.outputIndex == eth0 && !$0.onlink })
        #expect(routes.contains { $0.destination == far.ipv6Subnet && $0.gateway == IPAddress("fd00:244:7::") && $0.onlink })
        let device = try #require(try node.socket.link(named: "flannel-v6.1")).index
        #expect(try node.socket.fdbEntries(index: device).map(\.mac) == [VXLANDataplaneTests.macV6(7)])
    }
}
