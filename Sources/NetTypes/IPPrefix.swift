/// An address with a prefix length, as CNI writes it ("10.22.0.5/16").
///
/// The address keeps its host bits: CNI results carry an interface address and its subnet in
/// one value. `network` gives the masked form.
package struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    package let address: IPAddress
    package let length: Int

    package init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitWidth else { return nil }
        self.address = address
        self.length = length
    }

    package init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let addr = IPAddress(parts[0]),
              !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let len = Int(parts[1]) else { return nil }
        self.init(address: addr, length: len)
    }

    package var description: String { "\(address)/\(length)" }
    package var family: IPAddress.Family { address.family }

    /// The prefix with host bits cleared.
    package var network: IPPrefix { IPPrefix(address: masked(address), length: length)! }

    /// The highest address in the prefix (the IPv4 broadcast address).
    package var lastAddress: IPAddress {
        switch masked(address) {
        case .v4(let v):
            let hostBits: UInt32 = length == 0 ? .max : (length >= 32 ? 0 : (UInt32(1) << (32 - length)) - 1)
            return .v4(v | hostBits)
        case .v6(let hi, let lo):
            let hiHost: UInt64 = length >= 64 ? 0 : (length == 0 ? .max : (UInt64(1) << (64 - length)) - 1)
            let loHost: UInt64 = length <= 64 ? .max : (length >= 128 ? 0 : (UInt64(1) << (128 - length)) - 1)
            return .v6(hi | hiHost, lo | loHost)
        }
    }

    package func contains(_ other: IPAddress) -> Bool {
        other.family == address.family && masked(other) == masked(address)
    }

    /// Whether the two prefixes share any address.
    package func overlaps(_ other: IPPrefix) -> Bool {
        guard other.family == family else { return false }
        return length <= other.length ? contains(other.address) : other.contains(address)
    }

    /// The netmask as an address (255.255.0.0 for /16).
    package var netmask: IPAddress {
        switch address {
        case .v4:
            return .v4(length == 0 ? 0 : UInt32.max << (32 - length))
        case .v6:
            let hi: UInt64 = length == 0 ? 0 : (length >= 64 ? .max : UInt64.max << (64 - length))
            let lo: UInt64 = length <= 64 ? 0 : (length >= 128 ? .max : UInt64.max << (128 - length))
            return .v6(hi, lo)
        }
    }

    func masked(_ a: IPAddress) -> IPAddress {
        switch (a, netmask) {
        case (.v4(let v), .v4(let m)): return .v4(v & m)
        case (.v6(let h, let l), .v6(let mh, let ml)): return .v6(h & mh, l & ml)
        default: return a
        }
    }
}
