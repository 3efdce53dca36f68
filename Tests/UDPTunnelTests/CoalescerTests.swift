import Testing
@testable import UDPTunnel

/// The UDP-to-TUN path: consecutive TCP segments of one flow joined, everything else alone.
@Suite struct CoalescerTests {
    static let timestamps: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9]

    static func segment(_ i: Int, size: Int = 1000, flags: UInt8 = TCPHeader.ack, sourcePort: UInt16 = 40000,
                        options: [UInt8] = timestamps, ack: UInt32 = 555, sequence: UInt32? = nil, tos: UInt8 = 0) -> [UInt8] {
        PacketBuilder.tcp(sourcePort: sourcePort, sequence: sequence ?? 5000 &+ UInt32(i * 1000), ack: ack, flags: flags,
                          window: UInt16(100 + i), options: options, payload: PacketBuilder.bytes(size, seed: i), id: UInt16(i), tos: tos)
    }

    static func runs(_ packets: [[UInt8]]) -> [Int] {
        withPackets(packets) { refs in
            var runs: [Range<Int>] = []
            Coalescer.runs(refs, into: &runs)
            return runs.map(\.count)
        }
    }

    static func withPackets<T>(_ packets: [[UInt8]], _ body: ([PacketRef]) -> T) -> T {
        let flat = packets.flatMap { $0 }
        return flat.withUnsafeBytes { raw in
            var refs: [PacketRef] = []
            var offset = 0
            for p in packets {
                refs.append(PacketRef(pointer: raw.baseAddress! + offset, count: p.count))
                offset += p.count
            }
            return body(refs)
        }
    }

    @Test func consecutiveSegmentsBecomeOneSuperPacketTheKernelCanFinish() throws {
        let packets = (0..<5).map { Self.segment($0) } + [Self.segment(5, size: 300, flags: TCPHeader.ack | TCPHeader.psh)]
        #expect(Self.runs(packets) == [6])
        let built: [UInt8] = Self.withPackets(packets) { refs in
            var out = [UInt8](repeating: 0, count: Coalescer.builtLength(refs[...]))
            let n = out.withUnsafeMutableBytes { Coalescer.build(refs[...], into: $0.baseAddress!) }
            #expect(n == out.count)
            return out
        }
        let header = built.withUnsafeBytes { VirtioNetHeader(reading: $0.baseAddress!) }
        #expect(header == VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4, headerLength: 52,
                                          gsoSize: 1000, checksumStart: 20, checksumOffset: 16))
        var packet = Array(built[VirtioNetHeader.size...])
        #expect(Int(packet.be16(2)) == packet.count && packet.count == 52 + 5300)
        #expect(PacketBuilder.referenceSum(Array(packet[0..<20])) == 0xffff)
        #expect(packet[33] == TCPHeader.ack | TCPHeader.psh)
        #expect(packet.be16(34) == 105)  // the newest window
        #expect(packet.be32(24) == 5000)
        #expect(PacketBuilder.tcpPayload(packet) == packets.flatMap { PacketBuilder.tcpPayload($0) })
        // NEEDS_CSUM: the field holds the pseudo-header sum; summing from csum_start and
        // storing the complement (what the kernel does) gives a valid checksum.
        let sum = PacketBuilder.referenceSum(Array(packet[20...]))
        packet[36] = UInt8(~sum >> 8); packet[37] = UInt8(~sum & 0xff)
        #expect(PacketBuilder.checksumsValid(packet))
    }

    @Test func otherFlowsStayApart() {
        #expect(Self.runs([Self.segment(0), Self.segment(1, sourcePort: 40001), Self.segment(2)]) == [1, 1, 1])
        #expect(Self.runs([Self.segment(0), Self.segment(1), Self.segment(2, tos: 3)]) == [2, 1])
    }

    @Test func pushCloseARunAndControlFlagsNeverJoin() {
        let psh = TCPHeader.ack | TCPHeader.psh
        #expect(Self.runs([Self.segment(0), Self.segment(1, flags: psh), Self.segment(2), Self.segment(3)]) == [2, 2])
        for flag in [TCPHeader.fin, TCPHeader.rst, TCPHeader.urg, TCPHeader.syn, TCPHeader.cwr, TCPHeader.ece] {
            #expect(Self.runs([Self.segment(0), Self.segment(1, flags: TCPHeader.ack | flag), Self.segment(2)]) == [1, 1, 1], "flag \(flag)")
        }
        #expect(Self.runs([Self.segment(0, flags: 0), Self.segment(1, flags: 0)]) == [1, 1])  // no ACK
    }

    @Test func outOfOrderOrUnevenSegmentsStayApart() {
        #expect(Self.runs([Self.segment(0), Self.segment(2), Self.segment(3)]) == [1, 2])
        #expect(Self.runs([Self.segment(1), Self.segment(0)]) == [1, 1])
        #expect(Self.runs([Self.segment(0), Self.segment(1, size: 500), Self.segment(2, sequence: 6500)]) == [2, 1])
        #expect(Self.runs([Self.segment(0, size: 500), Self.segment(1, size: 500, sequence: 5500)]) == [2])
        #expect(Self.runs([Self.segment(0, size: 500), Self.segment(1, size: 800, sequence: 5500)]) == [1, 1])  // bigger than the first
    }

    @Test func differentOptionsOrAcksStayApart() {
        var later = Self.timestamps
        later[7] = 8
        #expect(Self.runs([Self.segment(0), Self.segment(1, options: later)]) == [1, 1])
        #expect(Self.runs([Self.segment(0), Self.segment(1, options: [])]) == [1, 1])
        #expect(Self.runs([Self.segment(0), Self.segment(1, ack: 556)]) == [1, 1])
    }

    @Test func pureAcksIPOptionsAndOtherProtocolsGoAlone() {
        let ack = PacketBuilder.tcp(flags: TCPHeader.ack, payload: [])
        #expect(Self.runs([ack, ack]) == [1, 1])
        let withIPOptions = PacketBuilder.tcp(payload: [1, 2], ipOptions: [1, 1, 1, 0])
        #expect(Self.runs([withIPOptions, withIPOptions]) == [1, 1])
        let udp = PacketBuilder.udp(payload: [1, 2, 3])
        #expect(Self.runs([udp, udp]) == [1, 1])
    }

    @Test func aRunNeverExceedsTheIPMaximum() {
        let packets = (0..<70).map { Self.segment($0) }
        let runs = Self.runs(packets)
        #expect(runs.reduce(0, +) == 70)
        #expect(runs.allSatisfy { 52 + $0 * 1000 <= 65535 })
        #expect(runs.first == 64)  // the segment bound comes first here
        let small = (0..<200).map { Self.segment($0, size: 10, sequence: 5000 + UInt32($0 * 10)) }
        #expect(Self.runs(small) == [64, 64, 64, 8])
    }
}
