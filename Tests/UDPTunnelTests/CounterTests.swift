import NetTypes
import Testing
@testable import UDPTunnel

@Suite struct CounterTests {
    @Test func ordinalsFollowAllCases() {
        for (i, reason) in UDPDropReason.allCases.enumerated() { #expect(UDPDropReason.ordinal(reason) == i) }
    }

    @Test func flushesAccumulateBySubnetAcrossTables() {
        let a = UDPPeer(subnet: IPPrefix("10.244.2.0/24")!, publicAddress: IPAddress("192.0.2.2")!, port: 8285)
        let b = UDPPeer(subnet: IPPrefix("10.244.3.0/24")!, publicAddress: IPAddress("192.0.2.3")!, port: 8285)
        let counters = WorkerCounters()
        var local = LocalCounters()
        let first = PeerTable([a, b])
        local.reset(peerCount: 2)
        local.sent(peer: 1, packets: 3, bytes: 300)
        local.received(peer: 0, packets: 1, bytes: 60)
        local.drop(.unknownSender, 2)
        local.unreachableSent()
        counters.flush(&local, table: first)
        let second = PeerTable([b])  // a left: b is index 0 now
        local.reset(peerCount: 1)
        local.sent(peer: 0, packets: 1, bytes: 100)
        counters.flush(&local, table: second)
        let s = counters.snapshot
        #expect(s.peers[b.subnet] == UDPPeerTraffic(packetsOut: 4, bytesOut: 400))
        #expect(s.peers[a.subnet] == UDPPeerTraffic(packetsIn: 1, bytesIn: 60))
        #expect(s.drops[.unknownSender] == 2 && s.drops[.noRoute] == 0 && s.drops.count == UDPDropReason.allCases.count)
        #expect(s.unreachablesSent == 1)
    }
}
