import NetTypes
import Testing
@testable import UDPTunnel

@Suite struct PeerTableTests {
    static func peer(_ subnet: String, _ address: String, _ port: UInt16 = 8285) -> UDPPeer {
        UDPPeer(subnet: IPPrefix(subnet)!, publicAddress: IPAddress(address)!, port: port)
    }
    static let table = PeerTable([
        peer("10.244.2.0/24", "192.0.2.2"),
        peer("10.244.3.0/24", "192.0.2.3", 9000),
        peer("10.244.3.128/25", "192.0.2.4"),
        peer("fd00::/64", "192.0.2.5"),
    ])
    static let check = IngressCheck(ownNetwork: 0x0af4_0100, ownMask: 0xffff_ff00)

    @Test func picksThePeerByInnerDestinationLongestPrefixFirst() {
        #expect(Self.table.peers.count == 3)  // the IPv6 one is ignored
        #expect(Self.table.peer(containing: 0x0af4_0207) == 0)
        #expect(Self.table.peer(containing: 0x0af4_0307) == 1)
        #expect(Self.table.peer(containing: 0x0af4_0381) == 2)
        #expect(Self.table.peer(containing: 0x0af4_0901) == nil)
    }

    static func ingress(_ packet: [UInt8], from address: UInt32 = 0xc000_0202, port: UInt16 = 8285, mtu: Int = 1472) -> Result<Int, UDPDropReason> {
        packet.withUnsafeBytes {
            check.check($0.baseAddress!, count: $0.count, table: table, address: address, port: port, maximumLength: mtu)
        }
    }

    @Test func admitsOnlyAPeersOwnContainersToOurs() {
        let good = PacketBuilder.tcp(source: 0x0af4_0205, destination: 0x0af4_0107, payload: [1, 2, 3])
        #expect(Self.ingress(good) == .success(0))
        #expect(Self.ingress(good, port: 8286) == .failure(.unknownSender))
        #expect(Self.ingress(good, from: 0xc000_0209) == .failure(.unknownSender))
        #expect(Self.ingress(good, from: 0xc000_0203) == .failure(.unknownSender))  // peer 1 listens on 9000
        let spoofed = PacketBuilder.tcp(source: 0x0af4_0305, destination: 0x0af4_0107, payload: [1])
        #expect(Self.ingress(spoofed) == .failure(.foreignInnerSource))
        #expect(Self.ingress(spoofed, from: 0xc000_0203, port: 9000) == .success(1))
        let relay = PacketBuilder.tcp(source: 0x0af4_0205, destination: 0xc0a8_0001, payload: [1])
        #expect(Self.ingress(relay) == .failure(.foreignInnerDestination))
    }

    @Test func refusesMalformedPackets() {
        let good = PacketBuilder.tcp(source: 0x0af4_0205, destination: 0x0af4_0107, payload: PacketBuilder.bytes(1000))
        #expect(Self.ingress(Array(good.dropLast())) == .failure(.truncated))
        #expect(Self.ingress(good + [0, 0]) == .failure(.lengthMismatch))
        #expect(Self.ingress(good, mtu: 1000) == .failure(.oversized))
        var v6 = good
        v6[0] = 0x65
        #expect(Self.ingress(v6) == .failure(.notIPv4))
        #expect(Self.ingress(Array(good.dropLast())) == .failure(.truncated))
    }

    @Test func egressRouteSortsTheTUNsPackets() {
        let route = EgressRoute(network: 0x0af4_0000, networkMask: 0xffff_0000, ownNetwork: 0x0af4_0100, ownMask: 0xffff_ff00)
        #expect(route.decide(destination: 0x0af4_0207, table: Self.table) == .peer(0))
        #expect(route.decide(destination: 0x0af4_0901, table: Self.table) == .unreachable)
        #expect(route.decide(destination: 0x0af4_0101, table: Self.table) == .drop(.ownSubnetDestination))
        #expect(route.decide(destination: 0x0808_0808, table: Self.table) == .drop(.outsideNetwork))
    }
}
