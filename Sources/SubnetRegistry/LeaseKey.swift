import CNI
import NetTypes

/// flannel's subnet key: `10.244.1.0-24`, and in dual stack `10.244.1.0-24&fd00:0:0:1::-64`
/// (a '-' where CIDR text has '/', so a key is a valid file name and etcd path segment).
package enum LeaseKey {
    package static func make(subnet: IPPrefix, ipv6Subnet: IPPrefix?) -> String {
        let v4 = "\(subnet.network.address)-\(subnet.length)"
        guard let v6 = ipv6Subnet?.network else { return v4 }
        return v4 + "&\(v6.address)-\(v6.length)"
    }

    /// The subnets a key names, or nil when it is not a lease key (temp files, strays). Works
    /// on UTF-8 bytes: the agent parses a key per lease event, thousands per burst.
    package static func parse(_ key: some StringProtocol) -> (subnet: IPPrefix, ipv6Subnet: IPPrefix?)? {
        let text = Substring(key)
        let slash = text.utf8.lastIndex(of: UInt8(ascii: "/"))
        let name = slash.map { text[text.utf8.index(after: $0)...] } ?? text
        guard let ampersand = name.utf8.firstIndex(of: UInt8(ascii: "&")) else {
            return prefix(name, family: .v4).map { ($0, nil) }
        }
        let rest = name[name.utf8.index(after: ampersand)...]
        guard !rest.utf8.contains(UInt8(ascii: "&")),
              let v4 = prefix(name[..<ampersand], family: .v4), let v6 = prefix(rest, family: .v6) else { return nil }
        return (v4, v6)
    }

    /// Whether `storedKey` (a name relative to `<prefix>/subnets/`) is a lease key exactly as
    /// flannel writes it: directly under subnets/ (no '/', so no extra segment and no ".."),
    /// and the one spelling of its subnets (no zero padding, RFC 5952 IPv6 text), so that no
    /// two stored names can claim the same subnets. `parse` stays lenient (deleting and
    /// renaming must still find odd spellings); admission asks this.
    package static func isCanonical(_ storedKey: some StringProtocol) -> Bool {
        let text = Substring(storedKey)
        guard !text.utf8.contains(UInt8(ascii: "/")), let parsed = parse(text) else { return false }
        return make(subnet: parsed.subnet, ipv6Subnet: parsed.ipv6Subnet).utf8.elementsEqual(text.utf8)
    }

    /// `a.b.c.d-len` with host bits clear (a key with host bits set is not flannel's).
    private static func prefix(_ text: Substring, family: IPAddress.Family) -> IPPrefix? {
        guard let dash = text.utf8.lastIndex(of: UInt8(ascii: "-")) else { return nil }
        let lengthText = text[text.utf8.index(after: dash)...]
        guard !lengthText.isEmpty, lengthText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let length = Int(lengthText), let address = IPAddress(text[..<dash]), address.family == family,
              let p = IPPrefix(address: address, length: length), p.network == p else { return nil }
        return p
    }
}
