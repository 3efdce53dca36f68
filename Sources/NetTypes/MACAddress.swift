/// A 48-bit Ethernet hardware address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Parses "aa:bb:cc:dd:ee:ff" (also with '-' separators, any case).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            out.append(b)
        }
        self.bytes = out
    }

    public var description: String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    /// A random locally administered unicast address.
    public static func random() -> MACAddress {
        // One 64-bit draw for all six bytes: each draw is a getrandom syscall.
        var g = SystemRandomNumberGenerator()
        let bits = g.next()
        var b = (0..<6).map { UInt8(truncatingIfNeeded: bits >> ($0 * 8)) }
        b[0] = (b[0] & 0xfe) | 0x02
        return MACAddress(bytes: b)!
    }
}
