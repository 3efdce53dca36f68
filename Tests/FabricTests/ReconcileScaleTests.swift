import CNI
import Glibc
import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// 1,000 VXLAN peers (3,000 entries): the reconcile stays a few dozen round trips (batches of
/// 128 requests) where `ip -batch` makes one per entry.
/// Timings are printed for the record, never asserted (the machine is noisy).
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct ReconcileScaleTests {
    static let count = 1000

    static func peers(macByte: UInt8 = 1) -> [Peer] {
        (0..<count).map { i in
            let (high, low) = (i / 256, i % 256)
            return Peer(subnet: IPPrefix("10.\(100 + high).\(low).0/24")!, publicIP: IPAddress("10.200.\(high).\(low)")!,
                        vtepMAC: MACAddress(bytes: [0x02, 0x5c, macByte, 0, UInt8(high), UInt8(low)])!)
        }
    }

    static func dataplane(_ node: DataplaneTestbed.Node) throws -> VXLANDataplane {
        VXLANDataplane(configuration: VXLANConfiguration(localSubnet: node.subnet, mac: MACAddress("02:5c:00:00:00:01")!),
                       underlay: try Underlay.resolve(interface: "eth0", socket: node.socket), socket: node.socket)
    }

    @Test func thousandPeersInAFewRoundTrips() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        var dataplane = try Self.dataplane(testbed.nodes[0])
        let peers = Self.peers()

        let first = dataplane.reconcile(peers)
        #expect(first.added == 3 * Self.count && first.programmedPeers.count == Self.count && first.succeeded, "\(first)")
        #expect(first.netlinkRoundTrips <= 40, "\(first)")
        let device = try #require(try socket.link(named: "flannel.1")).index
        #expect(try socket.fdbEntries(index: device).count == Self.count)
        #expect(try socket.neighbours(family: .v4, index: device).filter(\.isPermanent).count == Self.count)
        #expect(try socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }.count == Self.count)

        let steady = dataplane.reconcile(peers)
        #expect(steady.unchanged == 3 * Self.count && steady.netlinkRoundTrips <= 6, "\(steady)")

        for peer in peers.prefix(100) {
            try socket.deleteRoute(Route(destination: peer.subnet, gateway: peer.subnet.address, outputIndex: device))
        }
        let repair = dataplane.reconcile(peers)
        #expect(repair.repaired == 100 && repair.unchanged == 3 * Self.count - 100, "\(repair)")

        // Every peer rebooted with a new VTEP MAC: 1,000 FDB entries replaced, neighbours rewritten.
        let rebooted = dataplane.reconcile(Self.peers(macByte: 2))
        #expect(rebooted.removed == Self.count && rebooted.added == Self.count && rebooted.repaired == Self.count, "\(rebooted)")
        #expect(try socket.fdbEntries(index: device).allSatisfy { $0.mac.bytes[2] == 2 })

        let emptied = dataplane.reconcile([])
        #expect(emptied.removed == 3 * Self.count && emptied.succeeded, "\(emptied)")

        print("dataplane scale (\(Self.count) peers): first \(first)")
        print("dataplane scale: steady \(steady)")
        print("dataplane scale: repair of 100 routes \(repair)")
        print("dataplane scale: all MACs changed \(rebooted)")
        print("dataplane scale: all removed \(emptied)")
    }

    /// The same 3,000 entries through `ip -batch` and `bridge -batch`, for comparison only.
    @Test func ipBatchOfTheSameEntriesForComparison() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        try Self.dataplane(node).ensureDevice()
        var ipLines: [String] = []
        var bridgeLines: [String] = []
        for peer in Self.peers() {
            ipLines.append("neigh replace \(peer.subnet.address) lladdr \(peer.vtepMAC!) dev flannel.1 nud permanent")
            bridgeLines.append("fdb replace \(peer.vtepMAC!) dev flannel.1 dst \(peer.publicIP)")
        }
        for peer in Self.peers() {
            ipLines.append("route add \(peer.subnet) via \(peer.subnet.address) dev flannel.1 onlink proto 92")
        }
        let clock = ContinuousClock()
        let start = clock.now
        try testbed.inside(node, ["ip", "-batch", "-"], stdin: ipLines.prefix(Self.count).joined(separator: "\n") + "\n")
        try testbed.inside(node, ["bridge", "-batch", "-"], stdin: bridgeLines.joined(separator: "\n") + "\n")
        try testbed.inside(node, ["ip", "-batch", "-"], stdin: ipLines.dropFirst(Self.count).joined(separator: "\n") + "\n")
        let elapsed = clock.now - start
        #expect(try node.socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }.count == Self.count)
        print("dataplane scale: ip -batch + bridge -batch of the same \(3 * Self.count) entries took \(elapsed) (3 processes, one request and ack per entry)")

        // Our reconcile over what ip wrote: everything is recognised as in place.
        var dataplane = try Self.dataplane(node)
        let adopted = dataplane.reconcile(Self.peers())
        #expect(adopted.unchanged == 3 * Self.count && adopted.added == 0, "\(adopted)")
    }
}
