/// A 48-bit Ethernet hardware address.
package struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    package init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Parses "aa:bb:cc:dd:ee:ff" (also with '-' separators, any case), byte by byte: the
    /// agent parses one per peer lease on every registry event.
    package init?(_ text: some StringProtocol) {
        var out: [UInt8] = []
        out.reserveCapacity(6)
        var current: UInt8 = 0
        var digits = 0
        for byte in Substring(text).utf8 {  // not generic per byte: see IPAddress.init
            if byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-") {
                guard digits == 2, out.count < 5 else { return nil }
                out.append(current)
                (current, digits) = (0, 0)
                continue
            }
            guard let nibble = MACAddress.hexValue(byte), digits < 2 else { return nil }
            current = current << 4 | nibble
            digits += 1
        }
        guard digits == 2, out.count == 5 else { return nil }
        out.append(current)
        self.bytes = out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    package var description: String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    /// A random locally administered unicast address.
    package static func random() -> MACAddress {
        // One 64-bit draw for all six bytes: each draw is a getrandom syscall.
        var g = SystemRandomNumberGenerator()
        let bits = g.next()
        var b = (0..<6).map { UInt8(truncatingIfNeeded: bits >> ($0 * 8)) }
        b[0] = (b[0] & 0xfe) | 0x02
        return MACAddress(bytes: b)!
    }
}
