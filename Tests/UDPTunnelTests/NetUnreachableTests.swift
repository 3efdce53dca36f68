import Testing
@testable import UDPTunnel

@Suite struct NetUnreachableTests {
    static let own: UInt32 = 0x0af4_0100  // 10.244.1.0

    static func build(_ offender: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0xaa, count: NetUnreachable.maximumLength)
        let n = offender.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { NetUnreachable.build(offender: p.baseAddress!, count: p.count, source: own, into: $0.baseAddress!) }
        }
        return n.map { Array(out[0..<$0]) }
    }

    @Test func answersAPingWithNetUnreachableQuotingItsHeader() throws {
        let ping = PacketBuilder.icmp(payload: PacketBuilder.bytes(56))
        let reply = try #require(Self.build(ping))
        #expect(reply.count == 20 + 8 + 28)
        #expect(reply[0] == 0x45 && Int(reply.be16(2)) == reply.count && reply[9] == 1)
        #expect(reply.be32(12) == Self.own && reply.be32(16) == 0x0af4_0105)
        #expect(reply[20] == 3 && reply[21] == 0)
        #expect(Array(reply[28...]) == Array(ping[0..<28]))
        #expect(PacketBuilder.checksumsValid(reply))
    }

    @Test func quotesHeaderOptionsAndEightBytesOfTCP() throws {
        let tcp = PacketBuilder.tcp(payload: PacketBuilder.bytes(100), ipOptions: [1, 1, 1, 0])
        let reply = try #require(Self.build(tcp))
        #expect(Array(reply[28...]) == Array(tcp[0..<32]))
        #expect(PacketBuilder.checksumsValid(reply))
        let tiny = PacketBuilder.udp(payload: [])  // 28 bytes: header + 8
        #expect(try #require(Self.build(tiny)).count == 56)
    }

    @Test func staysSilentWhereRFC1812Says() {
        #expect(Self.build(PacketBuilder.icmp(type: 3)) == nil)   // an error about an error
        #expect(Self.build(PacketBuilder.icmp(type: 11)) == nil)
        #expect(Self.build(PacketBuilder.icmp(type: 0)) == nil)   // echo reply
        var fragment = PacketBuilder.udp(payload: PacketBuilder.bytes(40))
        fragment[7] = 5  // offset 40
        #expect(Self.build(fragment) == nil)
        #expect(Self.build(PacketBuilder.udp(source: 0, payload: [1])) == nil)
        #expect(Self.build(PacketBuilder.udp(source: 0xe000_0001, payload: [1])) == nil)
        #expect(Self.build(Array(PacketBuilder.udp(payload: [1])[0..<19])) == nil)
    }
}
