/// Cuts what TUN hands over with a virtio-net header into ordinary IPv4 packets for the wire.
///
/// With TSO/USO offered, the kernel passes one TCP (or UDP) super-packet of up to 64 KiB
/// instead of ~45 MTU-sized packets, and leaves the transport checksum to us (NEEDS_CSUM).
/// A flannel node on the other end expects one complete packet per datagram, so every
/// segment gets its own headers and checksums here, as the kernel's own GSO would make them:
/// IP total length, identification +1 per segment and header checksum; TCP sequence number
/// advanced by the bytes before it, FIN/PSH only on the last segment, CWR only on the first;
/// UDP length. Segments are laid out back to back, each full one `segmentLength` bytes and
/// the last possibly shorter: exactly the layout one UDP_SEGMENT send takes.
enum Segmenter {
    enum Plan: Equatable {
        /// A single packet, checksum completed in place: send as it is.
        case single
        case segments(SegmentPlan)
    }

    struct SegmentPlan: Equatable {
        let ipHeaderLength: Int
        /// IP + transport header bytes copied to every segment.
        let headerLength: Int
        /// Transport payload bytes per segment (the last may carry fewer).
        let payloadPerSegment: Int
        let payloadTotal: Int
        let isTCP: Bool

        var count: Int { (payloadTotal + payloadPerSegment - 1) / payloadPerSegment }
        var segmentLength: Int { headerLength + payloadPerSegment }
        /// Bytes of segments [first, first + n).
        func bytes(first: Int, count n: Int) -> Int {
            let end = min(payloadTotal, (first + n) * payloadPerSegment)
            return n * headerLength + end - first * payloadPerSegment
        }
    }

    /// Checks `header` against the packet and says how it leaves; completes the checksum of
    /// a single packet that asks for it.
    static func prepare(_ header: VirtioNetHeader, packet p: UnsafeMutableRawPointer, count: Int) -> Result<Plan, UDPDropReason> {
        guard count >= IPv4Header.minimumLength else { return .failure(.truncated) }
        guard IPv4Header.version(p) == 4 else { return .failure(.notIPv4) }
        let gso = header.gsoType & ~VirtioNetHeader.gsoECN
        if gso == VirtioNetHeader.gsoNone {
            if let reason = IPv4Header.validate(p, count: count) { return .failure(reason) }
            if header.flags & VirtioNetHeader.needsChecksum != 0 {
                let start = Int(header.checksumStart), field = start + Int(header.checksumOffset)
                guard start >= IPv4Header.headerLength(p), field + 2 <= count else { return .failure(.malformedOffload) }
                let sum = InternetChecksum.sum(UnsafeRawPointer(p + start), count - start)
                p.setBE16(field, InternetChecksum.finish(sum))
            }
            return .success(.single)
        }
        let ip = IPv4Header.headerLength(p)
        guard ip >= IPv4Header.minimumLength, !IPv4Header.isFragment(p), header.gsoSize > 0 else {
            return .failure(.malformedOffload)
        }
        let transport: Int
        let isTCP: Bool
        switch (gso, IPv4Header.protocolNumber(p)) {
        case (VirtioNetHeader.gsoTCPv4, IPv4Header.tcp):
            guard ip + 20 <= count else { return .failure(.malformedOffload) }
            transport = TCPHeader.headerLength(UnsafeRawPointer(p + ip))
            guard transport >= 20 else { return .failure(.malformedOffload) }
            isTCP = true
        case (VirtioNetHeader.gsoUDPL4, IPv4Header.udp):
            transport = 8
            isTCP = false
        default:
            return .failure(.malformedOffload)
        }
        let headers = ip + transport
        guard headers < count, headers + Int(header.gsoSize) <= 65535 else { return .failure(.malformedOffload) }
        return .success(.segments(SegmentPlan(ipHeaderLength: ip, headerLength: headers, payloadPerSegment: Int(header.gsoSize),
                                              payloadTotal: count - headers, isTCP: isTCP)))
    }

    /// Writes segments [first, first + n) of the super-packet `p` to `out` (room for
    /// `plan.bytes(first:count:)`), back to back; returns the bytes written.
    static func write(_ plan: SegmentPlan, packet p: UnsafeRawPointer, first: Int, count n: Int, into out: UnsafeMutableRawPointer) -> Int {
        var written = 0
        for i in first..<(first + n) {
            let length = writeHeader(plan, packet: p, segment: i, into: out + written)
            (out + written + plan.headerLength).copyMemory(from: p + plan.headerLength + i * plan.payloadPerSegment, byteCount: length)
            written += plan.headerLength + length
        }
        return written
    }

    /// The payload bytes of segment `i`; they lie in the super-packet at
    /// `headerLength + i * payloadPerSegment`, where the send path points at them instead of
    /// copying (one iovec for the header, one for the payload).
    static func payloadLength(_ plan: SegmentPlan, segment i: Int) -> Int {
        min(plan.payloadPerSegment, plan.payloadTotal - i * plan.payloadPerSegment)
    }

    /// Writes segment `i`'s headers (`plan.headerLength` bytes) to `s`, its checksums
    /// computed over the payload where it lies in `p`; returns the payload length.
    @discardableResult
    static func writeHeader(_ plan: SegmentPlan, packet p: UnsafeRawPointer, segment i: Int, into s: UnsafeMutableRawPointer) -> Int {
        let ip = plan.ipHeaderLength, headers = plan.headerLength
        let offset = i * plan.payloadPerSegment
        let length = payloadLength(plan, segment: i)
        s.copyMemory(from: p, byteCount: headers)
        s.setBE16(2, UInt16(headers + length))
        s.setBE16(4, IPv4Header.identification(p) &+ UInt16(truncatingIfNeeded: i))
        IPv4Header.updateChecksum(s)
        let t = s + ip
        let transportHeader = headers - ip
        let proto = plan.isTCP ? IPv4Header.tcp : IPv4Header.udp
        let checksumField = plan.isTCP ? TCPHeader.checksumOffset : 6
        if plan.isTCP {
            t.setBE32(4, TCPHeader.sequence(p + ip) &+ UInt32(truncatingIfNeeded: offset))
            var flags = t.load(fromByteOffset: 13, as: UInt8.self)
            if i != plan.count - 1 { flags &= ~(TCPHeader.fin | TCPHeader.psh) }
            if i != 0 { flags &= ~TCPHeader.cwr }
            t.setByte(13, flags)
        } else {
            t.setBE16(4, UInt16(transportHeader + length))
        }
        t.setBE16(checksumField, 0)
        // The transport header's length is a multiple of 4, so the payload's partial sum
        // (in place in the super-packet) adds on without realignment.
        let sum = InternetChecksum.combine(
            InternetChecksum.combine(
                InternetChecksum.pseudoHeader(source: IPv4Header.source(p), destination: IPv4Header.destination(p), protocol: proto,
                                              length: transportHeader + length),
                InternetChecksum.sum(UnsafeRawPointer(t), transportHeader)),
            InternetChecksum.sum(p + headers + offset, length))
        let checksum = InternetChecksum.finish(sum)
        t.setBE16(checksumField, !plan.isTCP && checksum == 0 ? 0xffff : checksum)
        return length
    }
}
