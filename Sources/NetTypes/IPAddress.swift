/// An IPv4 or IPv6 address as the bytes the kernel uses (network order).
///
/// Every layer above the C edge speaks this type instead of strings or `in_addr`, so parsing
/// and formatting happen in exactly one place.
package enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    package enum Family: Sendable, Hashable { case v4, v6 }

    package var family: Family {
        switch self {
        case .v4: return .v4
        case .v6: return .v6
        }
    }

    /// Address width in bits (32 or 128).
    package var bitWidth: Int { family == .v4 ? 32 : 128 }

    package init?(bytes: [UInt8]) {
        if bytes.count == 4 {
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        } else if bytes.count == 16 {
            let hi = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(hi, lo)
        } else {
            return nil
        }
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    package var bytes: [UInt8] {
        switch self {
        case .v4(let v):
            return [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        case .v6(let hi, let lo):
            return (0..<8).map { UInt8(hi >> (56 - 8 * UInt64($0)) & 0xff) }
                + (0..<8).map { UInt8(lo >> (56 - 8 * UInt64($0)) & 0xff) }
        }
    }

    package init?(_ text: some StringProtocol) {
        // One conversion up front: the generic text is not specialized across modules, and
        // walking it byte by byte through the protocol costs more than the parse itself.
        let text = Substring(text)
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let v = IPAddress.parseV6(text) else { return nil }
            self = v
        } else {
            guard let v = IPAddress.parseV4(text) else { return nil }
            self = .v4(v)
        }
    }

    /// Four dot-separated decimal octets of one to three digits. Reads UTF-8 bytes, not
    /// Characters: the agent parses thousands of addresses per registry event.
    static func parseV4(_ s: Substring) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in s.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                (octet, digits, dots) = (0, 0, dots + 1)
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    static func parseV6(_ s: Substring) -> IPAddress? {
        var text = s
        var tail: [UInt16] = []
        // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseV4(text[text.index(after: lastColon)...]) else { return nil }
            tail = [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        var words: [UInt16]
        if let range = text.firstRange(of: "::") {
            guard let head = groups(text[..<range.lowerBound]),
                  let rest = groups(text[range.upperBound...]) else { return nil }
            if text[range.upperBound...].contains("::") { return nil }
            let missing = 8 - head.count - rest.count - tail.count
            guard missing >= 1 else { return nil }
            words = head + Array(repeating: 0, count: missing) + rest + tail
        } else {
            guard let all = groups(text) else { return nil }
            words = all + tail
        }
        guard words.count == 8 else { return nil }
        let hi = words[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let lo = words[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return .v6(hi, lo)
    }

    /// RFC 5952 text: dotted quad, or lowercase hex with the longest zero run compressed.
    package var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .v6(let hi, let lo):
            let words = (0..<4).map { UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64($0))) }
                + (0..<4).map { UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64($0))) }
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if words[i] == 0 {
                    var j = i
                    while j < 8 && words[j] == 0 { j += 1 }
                    if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            let hex = words.map { String($0, radix: 16) }
            if bestStart < 0 { return hex.joined(separator: ":") }
            let head = hex[0..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLen)...].joined(separator: ":")
            return head + "::" + tail
        }
    }

    package static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): return x < y
        case (.v6(let xh, let xl), .v6(let yh, let yl)): return (xh, xl) < (yh, yl)
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }

    /// The address `n` positions further (negative: earlier), or nil on overflow.
    package func advanced(by n: Int) -> IPAddress? {
        switch self {
        case .v4(let v):
            let r = Int64(v) + Int64(n)
            guard r >= 0, r <= Int64(UInt32.max) else { return nil }
            return .v4(UInt32(r))
        case .v6(let hi, let lo):
            if n >= 0 {
                let (nlo, carry) = lo.addingReportingOverflow(UInt64(n))
                if carry {
                    guard hi < UInt64.max else { return nil }
                    return .v6(hi + 1, nlo)
                }
                return .v6(hi, nlo)
            } else {
                let (nlo, borrow) = lo.subtractingReportingOverflow(UInt64(-n))
                if borrow {
                    guard hi > 0 else { return nil }
                    return .v6(hi - 1, nlo)
                }
                return .v6(hi, nlo)
            }
        }
    }

    package var isLinkLocalV6: Bool {
        if case .v6(let hi, _) = self { return hi >> 54 == 0x3fa }  // fe80::/10
        return false
    }
}
