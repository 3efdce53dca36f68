import NetTypes

extension IPAddress {
    /// How many addresses lie in `self...last` (inclusive), saturating at `Int.max`.
    ///
    /// Free-address accounting needs a count, and an IPv6 range can hold far more addresses
    /// than any directory holds files, so saturation never changes a "free or not" answer.
    func count(through last: IPAddress) -> Int {
        switch (self, last) {
        case (.v4(let a), .v4(let b)):
            return b < a ? 0 : Int(b - a) + 1
        case (.v6(let ah, let al), .v6(let bh, let bl)):
            if (bh, bl) < (ah, al) { return 0 }
            let (lo, borrow) = bl.subtractingReportingOverflow(al)
            let hi = bh - ah - (borrow ? 1 : 0)
            if hi > 0 || lo >= UInt64(Int.max) { return Int.max }
            return Int(lo) + 1
        default:
            return 0
        }
    }
}

extension IPPrefix {
    /// IPv4 network and broadcast addresses: never handed out, whatever the range says.
    var reservedV4Addresses: [IPAddress] {
        guard family == .v4 else { return [] }
        return [network.address, lastAddress]
    }
}
