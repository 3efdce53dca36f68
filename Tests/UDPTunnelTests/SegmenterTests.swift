import Testing
@testable import UDPTunnel

/// The TUN read path: TSO/USO super-packets cut into wire packets, NEEDS_CSUM completed.
@Suite struct SegmenterTests {
    /// A super-packet as TUN hands it: full headers, the TCP checksum field holding only the
    /// pseudo-header sum (NEEDS_CSUM), total length of the whole.
    static func superPacket(payload: [UInt8], flags: UInt8 = 0x18, options: [UInt8] = []) -> [UInt8] {
        var p = PacketBuilder.tcp(sequence: 0xffff_f000, flags: flags, options: options, payload: payload, id: 0xfffe)
        let pseudo = PacketBuilder.referenceSum(PacketBuilder.pseudo(0x0af4_0105, 0x0af4_0207, 6, p.count - 20))
        p[36] = UInt8(pseudo >> 8); p[37] = UInt8(pseudo & 0xff)
        return p
    }

    static func split(_ packet: [UInt8], _ header: VirtioNetHeader) -> Result<[[UInt8]], UDPDropReason> {
        var packet = packet
        return packet.withUnsafeMutableBytes { p -> Result<[[UInt8]], UDPDropReason> in
            switch Segmenter.prepare(header, packet: p.baseAddress!, count: p.count) {
            case .failure(let reason): return .failure(reason)
            case .success(.single): return .success([Array(p)])
            case .success(.segments(let plan)):
                var out = [UInt8](repeating: 0, count: plan.bytes(first: 0, count: plan.count))
                let written = out.withUnsafeMutableBytes { Segmenter.write(plan, packet: p.baseAddress!, first: 0, count: plan.count, into: $0.baseAddress!) }
                #expect(written == out.count)
                var segments: [[UInt8]] = []
                var offset = 0
                while offset < out.count {
                    let length = Int(out.be16(offset + 2))
                    segments.append(Array(out[offset..<(offset + length)]))
                    offset += length
                }
                return .success(segments)
            }
        }
    }

    @Test func tsoSplitGivesWholeCheckedSegmentsCarryingTheSamePayload() throws {
        let payload = PacketBuilder.bytes(10_000)
        let options: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]  // NOP NOP timestamps
        let packet = Self.superPacket(payload: payload, flags: 0x18 | TCPHeader.cwr | TCPHeader.fin, options: options)
        let header = VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4 | VirtioNetHeader.gsoECN,
                                     headerLength: 52, gsoSize: 1388, checksumStart: 20, checksumOffset: 16)
        let segments = try Self.split(packet, header).get()
        #expect(segments.count == 8)  // 7 x 1388 + 284
        var joined: [UInt8] = []
        for (i, s) in segments.enumerated() {
            #expect(PacketBuilder.checksumsValid(s), "segment \(i)")
            #expect(s.count == (i < 7 ? 52 + 1388 : 52 + 284))
            #expect(s.be16(4) == 0xfffe &+ UInt16(i))
            #expect(s.be32(24) == 0xffff_f000 &+ UInt32(i * 1388))
            let flags = s[33]
            #expect((flags & TCPHeader.fin != 0) == (i == 7))
            #expect((flags & TCPHeader.psh != 0) == (i == 7))
            #expect((flags & TCPHeader.cwr != 0) == (i == 0))
            #expect(Array(s[40..<52]) == options)
            #expect(IPv4HeaderTests.validate(s) == nil)
            joined += PacketBuilder.tcpPayload(s)
        }
        #expect(joined == payload)
    }

    @Test func exactMultipleHasNoShortLastSegment() throws {
        let segments = try Self.split(Self.superPacket(payload: PacketBuilder.bytes(4000)),
                                      VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoTCPv4, gsoSize: 1000, checksumStart: 20, checksumOffset: 16)).get()
        #expect(segments.map(\.count) == [1040, 1040, 1040, 1040])
    }

    @Test func usoSplitGivesUDPDatagramsWithLengthsAndChecksums() throws {
        let payload = PacketBuilder.bytes(3000)
        let packet = PacketBuilder.udp(payload: payload)
        let segments = try Self.split(packet, VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoUDPL4, gsoSize: 1200,
                                                              checksumStart: 20, checksumOffset: 6)).get()
        #expect(segments.map(\.count) == [1228, 1228, 628])
        for s in segments {
            #expect(PacketBuilder.checksumsValid(s))
            #expect(Int(s.be16(24)) == s.count - 20)
        }
        #expect(segments.flatMap { $0[28...] } == payload)
    }

    @Test func singlePacketChecksumIsCompleted() throws {
        var packet = PacketBuilder.udp(payload: PacketBuilder.bytes(77))
        let pseudo = PacketBuilder.referenceSum(PacketBuilder.pseudo(0x0af4_0105, 0x0af4_0207, 17, packet.count - 20))
        packet[26] = UInt8(pseudo >> 8); packet[27] = UInt8(pseudo & 0xff)
        #expect(!PacketBuilder.checksumsValid(packet))
        let out = try Self.split(packet, VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, checksumStart: 20, checksumOffset: 6)).get()
        #expect(out.count == 1 && PacketBuilder.checksumsValid(out[0]))
    }

    @Test func refusesHeadersItCannotHonour() {
        let tcp = Self.superPacket(payload: PacketBuilder.bytes(3000))
        func reason(_ p: [UInt8], _ h: VirtioNetHeader) -> UDPDropReason? {
            if case .failure(let r) = Self.split(p, h) { return r }
            return nil
        }
        #expect(reason(tcp, VirtioNetHeader(gsoType: VirtioNetHeader.gsoTCPv6, gsoSize: 1000)) == .malformedOffload)
        #expect(reason(tcp, VirtioNetHeader(gsoType: VirtioNetHeader.gsoTCPv4, gsoSize: 0)) == .malformedOffload)
        #expect(reason(tcp, VirtioNetHeader(gsoType: VirtioNetHeader.gsoUDPL4, gsoSize: 1000)) == .malformedOffload)
        #expect(reason(tcp, VirtioNetHeader(gsoType: 9, gsoSize: 1000)) == .malformedOffload)
        #expect(reason(Array(tcp[0..<30]), VirtioNetHeader(gsoType: VirtioNetHeader.gsoTCPv4, gsoSize: 1000)) == .malformedOffload)
        #expect(reason(tcp, VirtioNetHeader(flags: 1, checksumStart: 20, checksumOffset: 5000)) == .malformedOffload)
        let single = PacketBuilder.udp(payload: [1, 2, 3])
        #expect(reason(single, VirtioNetHeader(flags: 1, checksumStart: 20, checksumOffset: 30)) == .malformedOffload)
        #expect(reason(single, VirtioNetHeader(flags: 1, checksumStart: 2, checksumOffset: 0)) == .malformedOffload)
        #expect(reason([0x60] + single.dropFirst(), VirtioNetHeader()) == .notIPv4)
        #expect(reason(Array(single[0..<12]), VirtioNetHeader()) == .truncated)
    }
}
