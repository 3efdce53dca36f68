import CNI
import NetTypes

/// Subnet stepping for both families on one 128-bit representation, so the config
/// defaults, the alignment checks and the allocator's walk share a single implementation.
enum SubnetMath {
    /// An address as an unsigned 128-bit number (IPv4 in the low bits).
    struct Wide: Comparable, Hashable {
        var hi: UInt64
        var lo: UInt64

        static func < (a: Wide, b: Wide) -> Bool { (a.hi, a.lo) < (b.hi, b.lo) }

        func adding(_ o: Wide) -> Wide? {
            let (lo, carry) = lo.addingReportingOverflow(o.lo)
            let (hi1, o1) = hi.addingReportingOverflow(o.hi)
            let (hi2, o2) = hi1.addingReportingOverflow(carry ? 1 : 0)
            return o1 || o2 ? nil : Wide(hi: hi2, lo: lo)
        }

        func subtracting(_ o: Wide) -> Wide? {
            guard o <= self else { return nil }
            let (lo, borrow) = lo.subtractingReportingOverflow(o.lo)
            return Wide(hi: hi - o.hi - (borrow ? 1 : 0), lo: lo)
        }

        func shiftedRight(_ n: Int) -> Wide {
            if n == 0 { return self }
            if n >= 128 { return Wide(hi: 0, lo: 0) }
            if n >= 64 { return Wide(hi: 0, lo: hi >> UInt64(n - 64)) }
            return Wide(hi: hi >> UInt64(n), lo: lo >> UInt64(n) | hi << UInt64(64 - n))
        }
    }

    static func wide(_ a: IPAddress) -> Wide {
        switch a {
        case .v4(let v): return Wide(hi: 0, lo: UInt64(v))
        case .v6(let hi, let lo): return Wide(hi: hi, lo: lo)
        }
    }

    static func address(_ w: Wide, family: IPAddress.Family) -> IPAddress? {
        switch family {
        case .v4: return w.hi == 0 && w.lo <= UInt64(UInt32.max) ? .v4(UInt32(w.lo)) : nil
        case .v6: return .v6(w.hi, w.lo)
        }
    }

    /// The number of addresses in a subnet of `length` bits of a `family` address.
    static func size(length: Int, family: IPAddress.Family) -> Wide {
        let hostBits = (family == .v4 ? 32 : 128) - length
        if hostBits >= 64 { return Wide(hi: hostBits >= 128 ? .max : UInt64(1) << UInt64(hostBits - 64), lo: 0) }
        return Wide(hi: 0, lo: UInt64(1) << UInt64(hostBits))
    }

    /// The next subnet of `length` after the one starting at `start`, nil past the end.
    static func next(_ start: IPAddress, length: Int) -> IPAddress? {
        wide(start).adding(size(length: length, family: start.family)).flatMap { address($0, family: start.family) }
    }

    /// The subnet of `length` just below `end` (an exclusive upper bound).
    static func previous(_ end: IPAddress, length: Int) -> IPAddress? {
        wide(end).subtracting(size(length: length, family: end.family)).flatMap { address($0, family: end.family) }
    }

    /// Whether `a` is the network address of a subnet of `length`.
    static func isAligned(_ a: IPAddress, length: Int) -> Bool {
        IPPrefix(address: a, length: length)?.network.address == a
    }

    /// How many subnets of `length` lie from `min` to `max` inclusive (saturating).
    static func count(from min: IPAddress, to max: IPAddress, length: Int) -> UInt64 {
        guard let span = wide(max).subtracting(wide(min)) else { return 0 }
        let hostBits = (min.family == .v4 ? 32 : 128) - length
        let steps = span.shiftedRight(hostBits)
        return steps.hi != 0 || steps.lo == .max ? .max : steps.lo + 1
    }
}
