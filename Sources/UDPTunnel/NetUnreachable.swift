/// The ICMP destination-unreachable (net unreachable, type 3 code 0) the tunnel writes back
/// into the TUN device for a packet to an address inside the network that no node owns, as
/// flannel's proxy does: the sender sees "Destination Net Unreachable" at once instead of a
/// timeout.
///
/// Source address: the unreachable destination itself, as if the router of that net
/// answered. flannel uses flannel0's own address, but that address is local to the node, and
/// the kernel drops a packet that arrives on flannel0 from one of its own addresses as a
/// martian (accept_local is off by default), so the error never reaches the sender. The
/// destination is inside the network (its route leads back over flannel0: reverse-path
/// filtering passes) and no node's, so it is nobody's local address.
///
/// Unlike flannel's proxy, which stays silent for every ICMP packet, an ICMP *query* (an echo
/// request: the ping an operator tries first) gets the error too; only ICMP errors do not
/// (RFC 1812 §4.3.2.7, against loops), nor non-first fragments, nor packets from addresses
/// that cannot be answered.
enum NetUnreachable {
    /// The largest message: 20 + 8 + a 60-byte offending header + 8 bytes of its payload.
    static let maximumLength = 96

    /// Writes the message for `offender` into `out` (at least `maximumLength` bytes) and
    /// returns its length, or nil when none may be sent.
    static func build(offender p: UnsafeRawPointer, count: Int, source: UInt32, into out: UnsafeMutableRawPointer) -> Int? {
        guard count >= IPv4Header.minimumLength, IPv4Header.version(p) == 4 else { return nil }
        let header = IPv4Header.headerLength(p)
        guard header >= IPv4Header.minimumLength, header <= count else { return nil }
        guard IPv4Header.fragmentOffset(p) == 0 else { return nil }
        let offenderSource = IPv4Header.source(p)
        guard offenderSource != 0, offenderSource != .max, offenderSource >> 28 != 0xe else { return nil }
        if IPv4Header.protocolNumber(p) == IPv4Header.icmp {
            // Queries (echo 8, timestamp 13, info 15, address mask 17) may be answered.
            guard count > header, [8, 13, 15, 17].contains(p.byte(header)) else { return nil }
        }
        let quoted = header + min(8, count - header)
        let length = 20 + 8 + quoted
        out.initializeMemory(as: UInt8.self, repeating: 0, count: 28)
        out.setByte(0, 0x45)
        out.setBE16(2, UInt16(length))
        out.setByte(8, 64)  // TTL
        out.setByte(9, IPv4Header.icmp)
        out.setBE32(12, source)
        out.setBE32(16, offenderSource)
        IPv4Header.updateChecksum(out)
        out.setByte(20, 3)  // destination unreachable
        out.setByte(21, 0)  // net unreachable
        (out + 28).copyMemory(from: p, byteCount: quoted)
        out.setBE16(22, InternetChecksum.finish(InternetChecksum.sum(UnsafeRawPointer(out + 20), 8 + quoted)))
        return length
    }
}
