import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The incremental step's plan: old and new entries of changed peers, no kernel dump.
struct IncrementalPlanTests {
    static let device: Int32 = 9

    static func tunnel(_ subnet: Int, mac last: UInt8, ip: String = "192.168.50.20") -> [DesiredEntry] {
        let mac = MACAddress(bytes: [0x02, 0, 0, 0, 0, last])!
        let peer = Peer(subnet: IPPrefix("10.244.\(subnet).0/24")!, publicIP: IPAddress(ip)!, vtepMAC: mac)
        return VXLANDataplane.tunnelEntries(peer, mac: mac, device: device).map { DesiredEntry(entry: $0, peerID: peer.id) }
    }

    static func keys(_ entries: [DesiredEntry]) -> Set<DataplaneEntry.Key> { Set(entries.map(\.entry.key)) }

    @Test func newPeerIsWrittenInFlannelOrderAsAnAddition() {
        let plan = IncrementalPlan(old: [], new: Self.tunnel(3, mac: 1), known: [])
        #expect(plan.removals.isEmpty && plan.unchanged.isEmpty && plan.conflicts.isEmpty)
        #expect(plan.writes.map(\.desired.entry.additionRank) == [0, 1, 2])
        #expect(plan.writes.allSatisfy { !$0.replacing && !$0.isRepair })
    }

    @Test func gonePeerIsRemovedRouteFirst() {
        let old = Self.tunnel(3, mac: 1)
        let plan = IncrementalPlan(old: old, new: [], known: Self.keys(old))
        #expect(plan.writes.isEmpty)
        #expect(plan.removals == [old[2].entry, old[1].entry, old[0].entry])
    }

    @Test func newVTEPMACReplacesTheNeighbourAndSwapsTheFDBEntry() {
        let old = Self.tunnel(3, mac: 1)
        let new = Self.tunnel(3, mac: 2)
        let plan = IncrementalPlan(old: old, new: new, known: Self.keys(old))
        #expect(plan.removals == [old[1].entry])  // FDB key is (MAC, destination): the old one goes
        #expect(plan.unchanged.map(\.entry) == [new[2].entry])  // same route
        #expect(plan.writes.map(\.desired.entry) == [new[0].entry, new[1].entry])
        #expect(plan.writes[0].replacing && plan.writes[0].isRepair)  // neighbour overwritten in place
        #expect(!plan.writes[1].replacing && !plan.writes[1].isRepair)  // FDB entry is new
    }

    @Test func newPublicIPReplacesTheRouteInPlace() {
        let subnet = IPPrefix("10.244.4.0/24")!
        func route(_ ip: String) -> DesiredEntry {
            DesiredEntry(entry: .route(RouteEntry(destination: subnet, gateway: IPAddress(ip)!, outputIndex: 2, onlink: false)),
                         peerID: "10.244.4.0-24")
        }
        let plan = IncrementalPlan(old: [route("192.168.50.4")], new: [route("192.168.50.44")],
                                   known: [.route(subnet)])
        #expect(plan.removals.isEmpty)  // a delete first would leave the subnet unrouted for a moment
        #expect(plan.writes.map(\.desired) == [route("192.168.50.44")] && plan.writes[0].replacing)
    }

    @Test func anEntryNotKnownToBeInPlaceIsWrittenAgain() {
        // The previous write of this peer failed: identical old and new, but not known.
        let entries = Self.tunnel(3, mac: 1)
        let plan = IncrementalPlan(old: entries, new: entries, known: [entries[0].entry.key])
        #expect(plan.unchanged.map(\.entry) == [entries[0].entry])
        #expect(plan.writes.map(\.desired) == [entries[1], entries[2]])
        #expect(plan.removals.isEmpty)
    }

    @Test func twoNewPeersClaimingOneKeyIsAConflict() {
        let first = Self.tunnel(3, mac: 1)
        let second = Self.tunnel(3, mac: 7, ip: "192.168.50.21")  // same subnet, other node
        let plan = IncrementalPlan(old: [], new: first + second, known: [])
        #expect(plan.conflicts.map(\.0) == [second[0], second[2]])
        #expect(plan.writes.map(\.desired) == [first[0], first[1], second[1], first[2]])
    }
}
