/// A packet in a receive buffer.
struct PacketRef {
    let pointer: UnsafeRawPointer
    let count: Int
}

/// Joins consecutive TCP segments of one flow, as they arrive from a peer, into one
/// super-packet for the TUN device (the reverse of `Segmenter`), so the kernel takes 64 KiB
/// per write instead of one MTU. Only what the kernel's own GRO would join is joined: same
/// addresses, ports, TOS, TTL, IP flags, TCP header length, options bytes and ack number;
/// in-order sequence numbers; every segment but the last of the full size; flags ACK only
/// (PSH allowed on the last, which closes the run). No IP options, no fragments, no
/// SYN/FIN/RST/URG/ECE/CWR: those packets go on alone, unchanged. At most 64 segments and
/// 65,535 bytes per super-packet.
enum Coalescer {
    static let maximumIPLength = 65535
    /// Segments per super-packet, as the kernel's UDP GSO: it also bounds the iovecs of the
    /// one writev (IOV_MAX is 1024) when payloads are tiny.
    static let maximumSegments = 64

    /// Whether `p` may be part of a run at all.
    @inline(__always) static func isCandidate(_ p: PacketRef) -> Bool {
        let b = p.pointer
        guard IPv4Header.headerLength(b) == 20, IPv4Header.protocolNumber(b) == IPv4Header.tcp,
              !IPv4Header.isFragment(b), p.count >= 40 else { return false }
        let t = b + 20
        let tcpLength = TCPHeader.headerLength(t)
        guard tcpLength >= 20, 20 + tcpLength < p.count else { return false }  // carries payload
        let flags = TCPHeader.flags(t)
        return flags & ~TCPHeader.psh == TCPHeader.ack
    }

    @inline(__always) static func payload(_ p: PacketRef) -> Int { p.count - 20 - TCPHeader.headerLength(p.pointer + 20) }

    /// Whether `next` continues the run that starts at `head` and currently ends at `last`
    /// (both candidates; `total` is the run's IP length so far).
    static func continues(head: PacketRef, last: PacketRef, next: PacketRef, total: Int) -> Bool {
        guard isCandidate(next) else { return false }
        let h = head.pointer, l = last.pointer, n = next.pointer
        let tl = l + 20, tn = n + 20
        if TCPHeader.flags(tl) & TCPHeader.psh != 0 { return false }
        let size = payload(head)
        guard payload(last) == size, payload(next) <= size, total + payload(next) <= maximumIPLength else { return false }
        // TOS, IP flags, TTL, addresses; ports.
        guard h.byte(1) == n.byte(1), h.be16(6) == n.be16(6), h.byte(8) == n.byte(8),
              h.loadUnaligned(fromByteOffset: 12, as: UInt64.self) == n.loadUnaligned(fromByteOffset: 12, as: UInt64.self),
              h.loadUnaligned(fromByteOffset: 20, as: UInt32.self) == n.loadUnaligned(fromByteOffset: 20, as: UInt32.self)
        else { return false }
        let tcpLength = TCPHeader.headerLength(tn)
        guard tcpLength == TCPHeader.headerLength(tl), TCPHeader.acknowledgement(tn) == TCPHeader.acknowledgement(tl),
              TCPHeader.sequence(tn) == TCPHeader.sequence(tl) &+ UInt32(payload(last)) else { return false }
        // Options (timestamps): identical bytes.
        var i = 20
        while i < tcpLength {
            if tl.byte(i) != tn.byte(i) { return false }
            i += 1
        }
        return true
    }

    /// Splits `packets` into runs (ranges of indices), in order.
    static func runs(_ packets: [PacketRef], into result: inout [Range<Int>]) {
        result.removeAll(keepingCapacity: true)
        var start = 0
        while start < packets.count {
            var end = start + 1
            if isCandidate(packets[start]) {
                var total = packets[start].count
                while end < packets.count, end - start < maximumSegments,
                      continues(head: packets[start], last: packets[end - 1], next: packets[end], total: total) {
                    total += payload(packets[end])
                    end += 1
                }
            }
            result.append(start..<end)
            start = end
        }
    }

    /// Bytes `build` writes for a run: the virtio-net header, the head's headers, all payloads.
    static func builtLength(_ run: ArraySlice<PacketRef>) -> Int {
        VirtioNetHeader.size + run.first!.count + run.dropFirst().reduce(0) { $0 + payload($1) }
    }

    /// Writes a run of two or more packets as one super-packet with its virtio-net header
    /// (GSO TCPv4, NEEDS_CSUM: the kernel finishes the checksum when it resegments or
    /// delivers); returns the bytes written (`builtLength`).
    static func build(_ run: ArraySlice<PacketRef>, into out: UnsafeMutableRawPointer) -> Int {
        var length = buildHeader(run, into: out)
        for packet in run {
            let headers = packet.count - payload(packet)
            (out + length).copyMemory(from: packet.pointer + headers, byteCount: packet.count - headers)
            length += packet.count - headers
        }
        return length
    }

    /// The virtio-net header and the super-packet's IP and TCP headers (the head's, with
    /// the run's total length, the last segment's PSH and window, the pseudo-header sum in
    /// the checksum field); returns their length. The payloads follow in run order: the
    /// ingress thread hands them to writev where they lie instead of copying them.
    static func buildHeader(_ run: ArraySlice<PacketRef>, into out: UnsafeMutableRawPointer) -> Int {
        let head = run.first!, last = run.last!
        let tcpLength = TCPHeader.headerLength(head.pointer + 20)
        let headers = 20 + tcpLength
        let length = headers + run.reduce(0) { $0 + payload($1) }
        let p = out + VirtioNetHeader.size
        p.copyMemory(from: head.pointer, byteCount: headers)
        p.setBE16(2, UInt16(length))
        IPv4Header.updateChecksum(p)
        let t = p + 20
        let lastFlags = TCPHeader.flags(last.pointer + 20)
        t.setByte(13, TCPHeader.flags(head.pointer + 20) | (lastFlags & TCPHeader.psh))
        t.setBE16(14, (last.pointer + 20).be16(14))  // the newest window
        let pseudo = InternetChecksum.pseudoHeader(source: IPv4Header.source(p), destination: IPv4Header.destination(p),
                                                   protocol: IPv4Header.tcp, length: length - 20)
        t.setBE16(TCPHeader.checksumOffset, pseudo)
        VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: VirtioNetHeader.gsoTCPv4, headerLength: UInt16(headers),
                        gsoSize: UInt16(payload(head)), checksumStart: 20, checksumOffset: UInt16(TCPHeader.checksumOffset))
            .write(to: out)
        return VirtioNetHeader.size + headers
    }
}
