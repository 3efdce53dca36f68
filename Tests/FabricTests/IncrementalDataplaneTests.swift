import Glibc
import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The incremental path against a real kernel: only the changed peers' entries are written
/// or removed, and a full reconcile afterwards finds nothing to do.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct IncrementalDataplaneTests {
    static func peer(_ n: Int, mac last: UInt8?, ip: String? = nil) -> Peer {
        Peer(subnet: IPPrefix("10.244.\(n).0/24")!, publicIP: IPAddress(ip ?? "192.168.60.\(n)")!,
             vtepMAC: last.map { MACAddress(bytes: [0x02, 0x5c, 0, 0, 0, $0])! })
    }

    @Test func vxlanChangesTouchOnlyTheirPeersAndAgreeWithAFullReconcile() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        var dataplane = try ReconcileScaleTests.dataplane(testbed.nodes[0])
        let (a, b, c) = (Self.peer(2, mac: 2), Self.peer(3, mac: 3), Self.peer(4, mac: 4))
        #expect(!dataplane.apply([PeerChange(old: nil, new: a)]).succeeded)  // nothing known before a full reconcile
        #expect(dataplane.reconcile([a, b]).added == 6)

        let rebooted = Self.peer(3, mac: 33)
        let noMAC = Self.peer(5, mac: nil)
        let report = dataplane.apply([PeerChange(old: a, new: nil), PeerChange(old: b, new: rebooted),
                                      PeerChange(old: nil, new: c), PeerChange(old: nil, new: noMAC)])
        // a: 3 removed; b: old FDB entry removed, new one added, neighbour overwritten, route kept; c: 3 added.
        #expect(report.removed == 4 && report.added == 4 && report.repaired == 1 && report.unchanged == 1, "\(report)")
        #expect(report.succeeded && report.netlinkRoundTrips == 1, "\(report)")
        #expect(report.programmedPeers == [rebooted.id, c.id])
        #expect(report.unreachablePeers.map(\.peer) == [noMAC])

        let device = try #require(try socket.link(named: "flannel.1")).index
        #expect(Set(try socket.fdbEntries(index: device).map(\.mac)) == [rebooted.vtepMAC!, c.vtepMAC!])
        #expect(Set(try socket.neighbours(family: .v4, index: device).filter(\.isPermanent).map(\.mac))
                == [rebooted.vtepMAC!, c.vtepMAC!])
        #expect(Set(try socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }.map(\.destination))
                == [rebooted.subnet, c.subnet])

        let full = dataplane.reconcile([rebooted, c, noMAC])
        #expect(full.unchanged == 6 && full.added + full.removed + full.repaired == 0 && full.succeeded, "\(full)")
    }

    @Test func hostGWMovedPeerIsReroutedAndAFarOneReported() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        var dataplane = try HostGWDataplaneTests.dataplane(testbed.nodes[0])
        let near = Self.peer(2, mac: nil, ip: "192.168.50.2")
        #expect(dataplane.reconcile([near]).added == 1)
        let moved = Self.peer(2, mac: nil, ip: "192.168.50.22")
        let far = Self.peer(3, mac: nil, ip: "192.168.70.3")
        let report = dataplane.apply([PeerChange(old: near, new: moved), PeerChange(old: nil, new: far)])
        #expect(report.repaired == 1 && report.removed == 0 && report.succeeded, "\(report)")
        #expect(report.unreachablePeers.map(\.peer) == [far])
        #expect(try socket.routes(family: .v4).first { $0.destination == moved.subnet }?.gateway == moved.publicIP)
        #expect(dataplane.reconcile([moved, far]).unchanged == 1)
    }

    /// A refusal in the middle of a batch (only the batch's last request asks for an ack) is
    /// still that entry's failure, and the entries around it are in place.
    @Test func aRefusedEntryInTheMiddleOfABatchIsReportedAlone() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        var dataplane = try HostGWDataplaneTests.dataplane(testbed.nodes[0])
        #expect(dataplane.reconcile([]).succeeded)
        let peers = (2...6).map { Self.peer($0, mac: nil, ip: "192.168.50.\($0)") }
        let eth0 = try #require(try socket.link(named: "eth0")).index
        // Someone else's route to the third peer's subnet: ours is refused (EEXIST), not replaced.
        try socket.addRoute(Route(destination: peers[2].subnet, gateway: IPAddress("192.168.50.200"), outputIndex: eth0))
        let report = dataplane.apply(peers.map { PeerChange(old: nil, new: $0) })
        #expect(report.added == 4 && report.failures.map(\.peerID) == [peers[2].id], "\(report)")
        #expect(report.failures.first?.reason.contains("File exists") == true, "\(report)")
        #expect(report.programmedPeers == [peers[0], peers[1], peers[3], peers[4]].map(\.id))
        let routes = try socket.routes(family: .v4).filter { $0.routeProtocol == .swiftCNI }.map(\.destination)
        #expect(Set(routes) == Set([peers[0], peers[1], peers[3], peers[4]].map(\.subnet)))
    }

    /// 1,000 new VXLAN peers as one batch of events: the same few round trips as a full
    /// reconcile, without the three dumps. Timing printed for the record only.
    @Test func thousandNewPeersInOneBatch() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        var dataplane = try ReconcileScaleTests.dataplane(testbed.nodes[0])
        #expect(dataplane.reconcile([]).succeeded)
        let peers = ReconcileScaleTests.peers()
        let added = dataplane.apply(peers.map { PeerChange(old: nil, new: $0) })
        #expect(added.added == 3 * peers.count && added.programmedPeers.count == peers.count && added.succeeded, "\(added)")
        #expect(added.netlinkRoundTrips <= 30, "\(added)")
        let removed = dataplane.apply(peers.map { PeerChange(old: $0, new: nil) })
        #expect(removed.removed == 3 * peers.count && removed.succeeded, "\(removed)")
        print("incremental scale: 1,000 peers added \(added)")
        print("incremental scale: 1,000 peers removed \(removed)")
    }
}
