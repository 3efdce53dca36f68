import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane

/// The v6 half of a peer: taken from a dual-stack lease, judged apart from the v4 half.
struct DualStackPeerTests {
    static let mac = MACAddress("02:5c:00:00:00:02")!
    static let macV6 = MACAddress("02:5c:00:00:06:02")!

    @Test func aDualStackLeaseGivesBothHalves() {
        let lease = SubnetLease(subnet: IPPrefix("10.244.2.0/24")!, ipv6Subnet: IPPrefix("fc00:0:0:2::/64")!,
                                publicIP: IPAddress("192.168.50.12")!, publicIPv6: IPAddress("fd00:50::12")!,
                                backendType: "vxlan",
                                backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: Self.mac),
                                backendV6Data: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: Self.macV6))
        let peer = PeerSet.peer(lease)
        #expect(peer == Peer(subnet: IPPrefix("10.244.2.0/24")!, publicIP: IPAddress("192.168.50.12")!, vtepMAC: Self.mac,
                             ipv6Subnet: IPPrefix("fc00:0:0:2::/64")!, publicIPv6: IPAddress("fd00:50::12")!, vtepMACv6: Self.macV6))
        #expect(peer.id == "10.244.2.0-24")
        #expect(peer.description == "peer 10.244.2.0/24 at 192.168.50.12 vtep 02:5c:00:00:00:02 v6 fc00:0:0:2::/64 at fd00:50::12 vtep 02:5c:00:00:06:02")
    }

    @Test func anIPv4LeaseHasNoV6HalfAndReadsAsBefore() {
        let lease = PeerSetTests.lease(2)
        let peer = PeerSet.peer(lease)
        #expect(peer.ipv6Subnet == nil && peer.publicIPv6 == nil && peer.vtepMACv6 == nil)
        #expect(peer.description == "peer 10.244.2.0/24 at 192.168.50.20 vtep 02:00:00:00:00:01")
    }

    @Test func theV6HalfIsReportedWithItsReason() {
        let base = (subnet: IPPrefix("10.244.2.0/24")!, ip: IPAddress("192.168.50.12")!)
        let noSubnet = Peer(subnet: base.subnet, publicIP: base.ip)
        let noAddress = Peer(subnet: base.subnet, publicIP: base.ip, ipv6Subnet: IPPrefix("fc00:0:0:2::/64")!)
        let good = Peer(subnet: base.subnet, publicIP: base.ip, ipv6Subnet: IPPrefix("fc00:0:0:2::/64")!,
                        publicIPv6: IPAddress("fd00:50::12")!)
        #expect(noSubnet.ipv6Problem == "its lease has no IPv6 subnet; IPv6 half not programmed")
        #expect(noAddress.ipv6Problem == "its lease has no PublicIPv6; IPv6 half not programmed")
        #expect(good.ipv6Problem == nil)

        var report = ReconcileReport()
        let twin = Peer(subnet: IPPrefix("10.244.3.0/24")!, publicIP: base.ip, ipv6Subnet: good.ipv6Subnet, publicIPv6: good.publicIPv6)
        #expect(Peer.selectableIPv6([noSubnet, good, twin], into: &report) == [good])
        #expect(report.unreachable(.v6).map(\.reason) == ["its lease has no IPv6 subnet; IPv6 half not programmed",
                                                           "another peer already has IPv6 subnet fc00:0:0:2::/64"])
        #expect(report.unreachable(.v4).isEmpty)
    }

    @Test func familyCountsSplitTheTotals() {
        var report = ReconcileReport()
        report.added = 5
        report.ipv6.added = 2
        report.unchanged = 1
        #expect(report.ipv4 == FamilyCounts(added: 3, unchanged: 1) && report.counts(.v6) == FamilyCounts(added: 2))
        #expect(report.description.hasSuffix("ipv6=(added=2 removed=0 repaired=0 unchanged=0 failures=0 unreachable=0)"))
        #expect(!ReconcileReport().description.contains("ipv6"))
    }
}
