import Testing
@testable import UDPTunnel

@Suite struct ChecksumTests {
    @Test(arguments: [0, 1, 2, 3, 7, 8, 9, 20, 63, 1500, 65535])
    func matchesTheReferenceSumAtEveryLength(_ length: Int) {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
        let sum = bytes.withUnsafeBytes { InternetChecksum.sum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length) }
        #expect(sum == PacketBuilder.referenceSum(bytes))
    }

    @Test func allOnesDataFoldsWithoutLosingCarries() {
        let bytes = [UInt8](repeating: 0xff, count: 4096)
        let sum = bytes.withUnsafeBytes { InternetChecksum.sum($0.baseAddress!, $0.count) }
        #expect(sum == 0xffff)
    }

    @Test func partialSumsCombine() {
        let bytes = PacketBuilder.bytes(1001)
        let whole = bytes.withUnsafeBytes { InternetChecksum.sum($0.baseAddress!, $0.count) }
        let split = bytes.withUnsafeBytes { InternetChecksum.combine(InternetChecksum.sum($0.baseAddress!, 400), InternetChecksum.sum($0.baseAddress! + 400, 601)) }
        #expect(whole == split)
    }

    @Test func pseudoHeaderMatchesItsBytes() {
        let sum = InternetChecksum.pseudoHeader(source: 0xc000_0201, destination: 0xffff_fffe, protocol: 6, length: 1480)
        #expect(sum == PacketBuilder.referenceSum(PacketBuilder.pseudo(0xc000_0201, 0xffff_fffe, 6, 1480)))
    }

    @Test func builtPacketsCheckOut() {
        #expect(PacketBuilder.checksumsValid(PacketBuilder.tcp(payload: PacketBuilder.bytes(999))))
        #expect(PacketBuilder.checksumsValid(PacketBuilder.udp(payload: PacketBuilder.bytes(33))))
        var broken = PacketBuilder.tcp(payload: PacketBuilder.bytes(999))
        broken[100] ^= 1
        #expect(!PacketBuilder.checksumsValid(broken))
    }
}
