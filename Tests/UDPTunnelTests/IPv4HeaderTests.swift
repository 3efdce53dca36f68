import Testing
@testable import UDPTunnel

@Suite struct IPv4HeaderTests {
    static func validate(_ p: [UInt8]) -> UDPDropReason? {
        p.withUnsafeBytes { IPv4Header.validate($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count) }
    }

    @Test func acceptsOnlyOneWholePacket() {
        let packet = PacketBuilder.tcp(payload: PacketBuilder.bytes(100))
        #expect(Self.validate(packet) == nil)
        #expect(Self.validate(packet + [0]) == .lengthMismatch)
        #expect(Self.validate(Array(packet.dropLast())) == .truncated)
        #expect(Self.validate(Array(packet[0..<19])) == .truncated)
        #expect(Self.validate([]) == .truncated)
        var v6 = packet
        v6[0] = 0x60
        #expect(Self.validate(v6) == .notIPv4)
        var shortIHL = packet
        shortIHL[0] = 0x44
        #expect(Self.validate(shortIHL) == .truncated)
        var longIHL = Array(packet[0..<24])
        longIHL[0] = 0x4f  // 60-byte header in 24 bytes
        longIHL[2] = 0; longIHL[3] = 24
        #expect(Self.validate(longIHL) == .truncated)
        let withOptions = PacketBuilder.tcp(payload: [9], ipOptions: [1, 1, 1, 0])
        #expect(Self.validate(withOptions) == nil)
    }
}
