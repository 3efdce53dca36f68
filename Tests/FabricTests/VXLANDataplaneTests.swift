import CNI
import Glibc
import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The VXLAN backend between testbed nodes: device, entries, traffic, repair, staleness.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct VXLANDataplaneTests {
    static func mac(_ n: Int) -> MACAddress { MACAddress("02:5c:00:00:00:\(n < 16 ? "0" : "")\(String(n, radix: 16))")! }

    static func macV6(_ n: Int) -> MACAddress { MACAddress("02:5c:00:00:06:\(n < 16 ? "0" : "")\(String(n, radix: 16))")! }

    /// A dataplane per node (MAC 02:5c::0i) and each node's view of the others. Dual-stack
    /// (the testbed's IPv6 side, `DataplaneTestbed+IPv6`): v6 MAC 02:5c::6:0i as well.
    static func overlay(_ testbed: DataplaneTestbed, directRouting: Bool = false,
                        dualStack: Bool = false) throws -> [(VXLANDataplane, [Peer])] {
        try testbed.nodes.enumerated().map { i, node in
            var underlay = try Underlay.resolve(interface: "eth0", socket: node.socket)
            var configuration = VXLANConfiguration(localSubnet: node.subnet, mac: mac(i + 1), directRouting: directRouting)
            var peers = testbed.nodes.enumerated().filter { $0.offset != i }.map { j, other in
                Peer(subnet: other.subnet, publicIP: other.address, vtepMAC: mac(j + 1))
            }
            if dualStack {
                underlay = try underlay.withIPv6(socket: node.socket)
                configuration.localIPv6Subnet = DataplaneTestbed.ipv6Subnet(i + 1)
                configuration.macV6 = macV6(i + 1)
                peers = testbed.nodes.enumerated().filter { $0.offset != i }.map { j, other in
                    DataplaneTestbed.dualStackPeer(j + 1, v4: other.address, mac: mac(j + 1), macV6: macV6(j + 1))
                }
            }
            return (VXLANDataplane(configuration: configuration, underlay: underlay, socket: node.socket), peers)
        }
    }

    @Test func pingCrossesTheOverlayAsVXLANOnUDP8472() throws {
        let testbed = try DataplaneTestbed(nodes: 3)
        var overlay = try Self.overlay(testbed)
        var gateways: [IPAddress] = []
        for i in overlay.indices {
            let report = overlay[i].0.reconcile(overlay[i].1)
            #expect(report.succeeded, "\(report.failures)")
            #expect(report.added == 6 && report.programmedPeers.count == 2, "\(report)")
            gateways.append(try testbed.addPodGateway(testbed.nodes[i]))
        }
        let node1 = testbed.nodes[0]
        let device = try #require(try node1.socket.link(named: "flannel.1"))
        #expect(device.mtu == 1450 && device.isUp && device.mac == Self.mac(1))
        #expect(device.vxlan == VXLANSettings(vni: 1, local: node1.address, underlayIndex: try node1.socket.link(named: "eth0")?.index,
                                              port: 8472, learning: false))
        #expect(try node1.socket.addresses(family: .v4, index: device.index).map(\.prefix) == [IPPrefix("10.244.1.0/32")!])
        let neighbours = try node1.socket.neighbours(family: .v4, index: device.index)
        #expect(neighbours.contains { $0.address == IPAddress("10.244.2.0") && $0.mac == Self.mac(2) && $0.isPermanent })
        #expect(try node1.socket.fdbEntries(index: device.index).contains { $0.mac == Self.mac(3) && $0.destination == testbed.nodes[2].address })
        let route = try #require(try node1.socket.routes(family: .v4).first { $0.destination == IPPrefix("10.244.2.0/24")! })
        #expect(route.gateway == IPAddress("10.244.2.0") && route.outputIndex == device.index && route.onlink
                && route.routeProtocol == .swiftCNI)

        // Count VXLAN packets arriving at node 2's underlay port.
        let arrivals = try testbed.countVXLANArrivals(at: testbed.nodes[1], family: .v4)
        #expect(try testbed.pings(from: node1, source: gateways[0], to: gateways[1]))
        #expect(try testbed.pings(from: node1, source: gateways[0], to: gateways[2]))
        #expect(try testbed.pings(from: testbed.nodes[2], source: gateways[2], to: gateways[1]))
        #expect(try arrivals() >= 2)

        // Nothing changes on a repeat: one dump per kind, no writes.
        let again = overlay[0].0.reconcile(overlay[0].1)
        #expect(again.unchanged == 6 && again.added + again.removed + again.repaired == 0 && again.succeeded, "\(again)")
    }

    @Test func repairsHandDeletedEntriesAndRemovesStaleOnes() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        var (dataplane, peers) = try Self.overlay(testbed)[0]
        let socket = testbed.nodes[0].socket
        #expect(dataplane.reconcile(peers).added == 3)
        let device = try #require(try socket.link(named: "flannel.1")).index
        let peer = peers[0]

        try socket.deleteNeighbour(peer.subnet.address, index: device)
        try socket.deleteFDBEntry(mac: peer.vtepMAC!, destination: peer.publicIP, index: device)
        try socket.deleteRoute(Route(destination: peer.subnet, gateway: peer.subnet.address, outputIndex: device))
        // Leftovers on our device with nobody behind them.
        try socket.addNeighbour(IPAddress("10.244.99.0")!, mac: Self.mac(99), index: device)
        try socket.addFDBEntry(mac: Self.mac(99), destination: IPAddress("192.168.50.99")!, index: device, mode: .append)
        // A route that is not ours stays, even on our device.
        try socket.addRoute(Route(destination: IPPrefix("10.250.0.0/24")!, outputIndex: device))

        let repaired = dataplane.reconcile(peers)
        #expect(repaired.repaired == 3 && repaired.removed == 2 && repaired.added == 0 && repaired.succeeded, "\(repaired)")
        #expect(try socket.neighbours(family: .v4, index: device).map(\.address) == [peer.subnet.address])
        #expect(try socket.fdbEntries(index: device).map(\.mac) == [peer.vtepMAC!])
        #expect(try socket.routes(family: .v4).contains { $0.destination == IPPrefix("10.250.0.0/24")! })

        // The peer rebooted with a new VTEP MAC: its old FDB entry and neighbour must not linger.
        let moved = Peer(subnet: peer.subnet, publicIP: peer.publicIP, vtepMAC: Self.mac(42))
        let changed = dataplane.reconcile([moved])
        #expect(changed.removed == 1 && changed.repaired == 1 && changed.added == 1 && changed.unchanged == 1, "\(changed)")
        #expect(try socket.fdbEntries(index: device).map(\.mac) == [Self.mac(42)])
        #expect(try socket.neighbours(family: .v4, index: device).map(\.mac) == [Self.mac(42)])

        // The peer left.
        let gone = dataplane.reconcile([])
        #expect(gone.removed == 3 && gone.succeeded, "\(gone)")
        #expect(try socket.fdbEntries(index: device).isEmpty)
        #expect(try socket.neighbours(family: .v4, index: device).filter(\.isPermanent).isEmpty)
        #expect(!(try socket.routes(family: .v4)).contains { $0.routeProtocol == .swiftCNI })
    }

    @Test func wrongDeviceIsRecreatedAndDeletedDeviceRestored() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        var (dataplane, peers) = try Self.overlay(testbed)[0]
        let socket = testbed.nodes[0].socket
        // Someone else's flannel.1: wrong VNI and port, learning on, a foreign address.
        try socket.createVXLAN(name: "flannel.1", VXLANSettings(vni: 9, port: 4789, learning: true), mtu: 1400)
        let stale = try #require(try socket.link(named: "flannel.1"))
        try socket.addAddress(IPPrefix("10.1.2.3/24")!, index: stale.index)

        let device = try dataplane.ensureDevice()
        #expect(device.vxlan?.vni == 1 && device.vxlan?.port == 8472 && device.vxlan?.learning == false)
        #expect(device.mtu == 1450 && device.mac == Self.mac(1) && device.isUp)
        #expect(try socket.addresses(family: .v4, index: device.index).map(\.prefix) == [IPPrefix("10.244.1.0/32")!])

        // A stray extra address and a wrong MTU are fixed in place.
        try socket.addAddress(IPPrefix("10.9.9.9/32")!, index: device.index)
        try socket.setLink(index: device.index, mtu: 1300)
        #expect(try dataplane.ensureDevice().index == device.index)
        #expect(try socket.link(index: device.index)?.mtu == 1450)
        #expect(try socket.addresses(family: .v4, index: device.index).map(\.prefix) == [IPPrefix("10.244.1.0/32")!])

        #expect(dataplane.reconcile(peers).added == 3)
        try socket.deleteLink(index: device.index)
        let restored = dataplane.reconcile(peers)
        #expect(restored.repaired == 3 && restored.succeeded, "\(restored)")
        #expect(try socket.link(named: "flannel.1")?.isUp == true)
    }

    @Test func directRoutingSendsAdjacentPeersOverTheUnderlay() throws {
        let testbed = try DataplaneTestbed(nodes: 2)
        var (dataplane, peers) = try Self.overlay(testbed, directRouting: true)[0]
        let far = Peer(subnet: IPPrefix("10.244.7.0/24")!, publicIP: IPAddress("172.16.0.7")!, vtepMAC: Self.mac(7))
        let report = dataplane.reconcile(peers + [far])
        #expect(report.added == 4 && report.succeeded, "\(report)")
        let socket = testbed.nodes[0].socket
        let eth0 = try #require(try socket.link(named: "eth0")).index
        let routes = try socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }
        #expect(routes.contains { $0.destination == peers[0].subnet && $0.gateway == peers[0].publicIP && $0.outputIndex == eth0 && !$0.onlink })
        #expect(routes.contains { $0.destination == far.subnet && $0.gateway == IPAddress("10.244.7.0") && $0.onlink })
        let device = try #require(try socket.link(named: "flannel.1")).index
        #expect(try socket.fdbEntries(index: device).map(\.mac) == [Self.mac(7)])
    }

    /// Which leases may be peers at all (not this node's, not overlapping its subnet) is
    /// LeaseAdmission's to decide (LeaseAdmissionTests); a peer without a VTEP MAC cannot
    /// have entries built.
    @Test func peersWithoutMACAreNotProgrammed() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        var (dataplane, _) = try Self.overlay(testbed)[0]
        let report = dataplane.reconcile([Peer(subnet: IPPrefix("10.244.5.0/24")!, publicIP: IPAddress("192.168.50.15")!)])
        #expect(report.unreachablePeers.map(\.reason) == ["its lease has no VtepMAC"])
        #expect(report.added == 0 && report.programmedPeers.isEmpty)
    }
}
