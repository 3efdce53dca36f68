import NetTypes

/// flannel's subnet key: `10.244.1.0-24`, and in dual stack `10.244.1.0-24&fd00:0:0:1::-64`
/// (a '-' where CIDR text has '/', so a key is a valid file name and etcd path segment).
public enum LeaseKey {
    public static func make(subnet: IPPrefix, ipv6Subnet: IPPrefix?) -> String {
        let v4 = "\(subnet.network.address)-\(subnet.length)"
        guard let v6 = ipv6Subnet?.network else { return v4 }
        return v4 + "&\(v6.address)-\(v6.length)"
    }

    /// The subnets a key names, or nil when it is not a lease key (temp files, strays).
    public static func parse(_ key: some StringProtocol) -> (subnet: IPPrefix, ipv6Subnet: IPPrefix?)? {
        let name = String(key).split(separator: "/").last.map(String.init) ?? ""
        let halves = name.split(separator: "&", omittingEmptySubsequences: false)
        guard halves.count <= 2, let v4 = prefix(halves[0], family: .v4) else { return nil }
        if halves.count == 1 { return (v4, nil) }
        guard let v6 = prefix(halves[1], family: .v6) else { return nil }
        return (v4, v6)
    }

    /// `a.b.c.d-len` with host bits clear (a key with host bits set is not flannel's).
    private static func prefix(_ text: Substring, family: IPAddress.Family) -> IPPrefix? {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let lengthText = text[text.index(after: dash)...]
        guard !lengthText.isEmpty, lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(lengthText), let address = IPAddress(text[..<dash]), address.family == family,
              let p = IPPrefix(address: address, length: length), p.network == p else { return nil }
        return p
    }
}
