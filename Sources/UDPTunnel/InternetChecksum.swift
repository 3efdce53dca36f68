/// The Internet checksum (RFC 1071) as the IPv4, ICMP, TCP and UDP headers use it.
///
/// Sums run in 64-bit one's-complement over native-order words (the sum is independent of
/// byte order up to a final swap, RFC 1071 §2(B)), eight bytes per step: splitting a 64 KiB
/// super-packet checksums every byte once, so this is on the hot path.
enum InternetChecksum {
    /// The one's-complement sum of `count` bytes folded to 16 bits, in network order as an
    /// integer, not complemented: partial sums combine with `combine`.
    static func sum(_ pointer: UnsafeRawPointer, _ count: Int) -> UInt16 {
        var acc: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            let (s, o) = acc.addingReportingOverflow(pointer.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            acc = s &+ (o ? 1 : 0)
            i += 8
        }
        var tail: UInt64 = 0
        if i + 4 <= count {
            tail += UInt64(pointer.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            i += 4
        }
        if i + 2 <= count {
            tail += UInt64(pointer.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i += 2
        }
        if i < count {
            // An odd last byte is the high byte of a network-order word: low in native order.
            tail += UInt64(pointer.load(fromByteOffset: i, as: UInt8.self))
        }
        let (s, o) = acc.addingReportingOverflow(tail)
        acc = s &+ (o ? 1 : 0)
        // Words were read in host order: on a little-endian host the folded sum is byte-swapped.
        return UInt16(bigEndian: fold(acc))
    }

    /// Folds a 64-bit one's-complement sum to 16 bits.
    @inline(__always) static func fold(_ value: UInt64) -> UInt16 {
        var v = (value & 0xffff_ffff) + (value >> 32)
        v = (v & 0xffff) + (v >> 16)
        v = (v & 0xffff) + (v >> 16)
        v = (v & 0xffff) + (v >> 16)
        return UInt16(v)
    }

    /// One's-complement addition of partial sums.
    @inline(__always) static func combine(_ a: UInt16, _ b: UInt16) -> UInt16 {
        fold(UInt64(a) + UInt64(b))
    }

    /// The checksum field's value for data whose sum (with the field zero) is `sum`.
    @inline(__always) static func finish(_ sum: UInt16) -> UInt16 { ~sum }

    /// The TCP/UDP pseudo-header sum for IPv4 (RFC 793 §3.1, RFC 768).
    static func pseudoHeader(source: UInt32, destination: UInt32, protocol proto: UInt8, length: Int) -> UInt16 {
        fold(UInt64(source >> 16) + UInt64(source & 0xffff) + UInt64(destination >> 16) + UInt64(destination & 0xffff)
             + UInt64(proto) + UInt64(length))
    }
}
