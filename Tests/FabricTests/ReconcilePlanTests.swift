import NetTypes
import Netlink
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The diff behind every reconcile, without a kernel.
struct ReconcilePlanTests {
    let device: Int32 = 7
    let macA = MACAddress("02:00:00:00:00:0a")!
    let macB = MACAddress("02:00:00:00:00:0b")!

    func peer(_ n: Int, mac: MACAddress, ip: String = "192.168.50.12") -> [DesiredEntry] {
        let peer = Peer(subnet: IPPrefix("10.244.\(n).0/24")!, publicIP: IPAddress(ip)!, vtepMAC: mac)
        return VXLANDataplane.tunnelEntries(peer, mac: mac, device: device).map { DesiredEntry(entry: $0, peerID: peer.id) }
    }

    @Test func newPeerIsAddedInFlannelOrder() {
        let plan = ReconcilePlan(desired: peer(2, mac: macA), actual: [], known: [], foreignRoutes: [])
        #expect(plan.removals.isEmpty && plan.unchanged.isEmpty)
        #expect(plan.writes.map(\.desired.entry.additionRank) == [0, 1, 2])
        #expect(plan.writes.allSatisfy { !$0.isRepair && !$0.replacing })
    }

    @Test func inPlaceEntriesAreUnchanged() {
        let desired = peer(2, mac: macA)
        let plan = ReconcilePlan(desired: desired, actual: desired.map(\.entry), known: [], foreignRoutes: [])
        #expect(plan.unchanged.count == 3 && plan.writes.isEmpty && plan.removals.isEmpty)
    }

    @Test func missingKnownEntryIsARepair() {
        let desired = peer(2, mac: macA)
        let plan = ReconcilePlan(desired: desired, actual: [desired[0].entry, desired[2].entry],
                                 known: Set(desired.map(\.entry.key)), foreignRoutes: [])
        #expect(plan.writes.map(\.desired) == [desired[1]])
        #expect(plan.writes[0].isRepair)
    }

    @Test func changedMACRewritesNeighbourAndRemovesOldFDB() {
        let old = peer(2, mac: macA)
        let new = peer(2, mac: macB)
        let plan = ReconcilePlan(desired: new, actual: old.map(\.entry), known: Set(old.map(\.entry.key)), foreignRoutes: [])
        #expect(plan.removals == [old[1].entry])
        #expect(plan.unchanged.map(\.entry) == [new[2].entry])
        #expect(plan.writes.map(\.desired.entry) == [new[0].entry, new[1].entry])
        #expect(plan.writes[0].replacing && plan.writes[0].isRepair)
    }

    @Test func gonePeerIsRemovedRoutesFirst() {
        let plan = ReconcilePlan(desired: [], actual: peer(2, mac: macA).map(\.entry), known: [], foreignRoutes: [])
        #expect(plan.removals.map(\.additionRank) == [2, 1, 0])
    }

    @Test func wrongRouteIsReplacedInPlaceAndDuplicatesDeleted() {
        let desired = peer(2, mac: macA)[2]
        guard case .route(var wrong) = desired.entry else { Issue.record("not a route"); return }
        wrong.onlink = false
        var metric = wrong
        metric.priority = 100
        let plan = ReconcilePlan(desired: [desired], actual: [.route(wrong), .route(metric)], known: [], foreignRoutes: [])
        #expect(plan.writes.count == 1 && plan.writes[0].replacing)
        #expect(plan.removals == [.route(metric)])
    }

    @Test func foreignRouteAndDuplicateSubnetAreConflicts() {
        let desired = peer(2, mac: macA)
        let plan = ReconcilePlan(desired: desired + peer(2, mac: macB, ip: "192.168.50.13"), actual: [], known: [],
                                 foreignRoutes: [IPPrefix("10.244.2.0/24")!])
        // The route collides with someone else's; the second peer's route key collides with the first's.
        #expect(plan.conflicts.map(\.0.entry).contains(desired[2].entry))
        #expect(!plan.writes.contains { if case .route = $0.desired.entry { return true } else { return false } })
    }
}

struct ReconcileReportTests {
    @Test func describesItselfForTheLog() {
        var report = ReconcileReport()
        report.added = 3
        report.failures = [EntryFailure(entry: "route 10.244.2.0/24", peerID: "10.244.2.0-24", reason: "File exists")]
        #expect(report.description.hasPrefix("added=3 removed=0 repaired=0 unchanged=0 peers=0 unreachable=0 failures=1"))
        #expect(!report.succeeded)
        #expect("\(report.failures[0])" == "route 10.244.2.0/24 (peer 10.244.2.0-24): File exists")
    }

    @Test func peerIdentityIsTheLeaseKey() {
        let peer = Peer(subnet: IPPrefix("10.244.3.7/24")!, publicIP: IPAddress("192.168.1.3")!)
        #expect(peer.id == "10.244.3.0-24" && peer.subnet == IPPrefix("10.244.3.0/24")!)
    }
}
