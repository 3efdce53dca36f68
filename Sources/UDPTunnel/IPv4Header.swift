/// The IPv4 header fields the tunnel reads and writes (RFC 791), on raw packet memory.
enum IPv4Header {
    static let minimumLength = 20
    static let tcp: UInt8 = 6
    static let udp: UInt8 = 17
    static let icmp: UInt8 = 1

    @inline(__always) static func version(_ p: UnsafeRawPointer) -> UInt8 { p.byte(0) >> 4 }
    @inline(__always) static func headerLength(_ p: UnsafeRawPointer) -> Int { Int(p.byte(0) & 0x0f) * 4 }
    @inline(__always) static func totalLength(_ p: UnsafeRawPointer) -> Int { Int(p.be16(2)) }
    @inline(__always) static func identification(_ p: UnsafeRawPointer) -> UInt16 { p.be16(4) }
    /// Fragment offset and the MF flag: non-zero on every fragment but a whole packet's.
    @inline(__always) static func isFragment(_ p: UnsafeRawPointer) -> Bool { p.be16(6) & 0x3fff != 0 }
    @inline(__always) static func fragmentOffset(_ p: UnsafeRawPointer) -> Int { Int(p.be16(6) & 0x1fff) }
    @inline(__always) static func protocolNumber(_ p: UnsafeRawPointer) -> UInt8 { p.byte(9) }
    @inline(__always) static func source(_ p: UnsafeRawPointer) -> UInt32 { p.be32(12) }
    @inline(__always) static func destination(_ p: UnsafeRawPointer) -> UInt32 { p.be32(16) }

    /// Whether `count` bytes are one whole IPv4 packet: version 4, a complete header, and a
    /// total length equal to `count` (a datagram carries exactly one packet, nothing after
    /// it, nothing missing). nil when it is.
    static func validate(_ p: UnsafeRawPointer, count: Int) -> UDPDropReason? {
        guard count >= 1 else { return .truncated }
        guard version(p) == 4 else { return .notIPv4 }
        guard count >= minimumLength else { return .truncated }
        let header = headerLength(p)
        guard header >= minimumLength else { return .truncated }
        let total = totalLength(p)
        guard header <= total, total <= count else { return .truncated }
        guard total == count else { return .lengthMismatch }
        return nil
    }

    /// Recomputes the header checksum in place.
    @inline(__always) static func updateChecksum(_ p: UnsafeMutableRawPointer) {
        p.setBE16(10, 0)
        p.setBE16(10, InternetChecksum.finish(InternetChecksum.sum(UnsafeRawPointer(p), headerLength(p))))
    }
}

/// TCP header fields (RFC 793) the segmenter and coalescer rewrite.
enum TCPHeader {
    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10, urg: UInt8 = 0x20, ece: UInt8 = 0x40, cwr: UInt8 = 0x80
    static let checksumOffset = 16

    @inline(__always) static func headerLength(_ t: UnsafeRawPointer) -> Int { Int(t.byte(12) >> 4) * 4 }
    @inline(__always) static func flags(_ t: UnsafeRawPointer) -> UInt8 { t.byte(13) }
    @inline(__always) static func sequence(_ t: UnsafeRawPointer) -> UInt32 { t.be32(4) }
    @inline(__always) static func acknowledgement(_ t: UnsafeRawPointer) -> UInt32 { t.be32(8) }
}
