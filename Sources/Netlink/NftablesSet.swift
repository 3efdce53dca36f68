/// Which nf_tables set a request is about: family, table and set name.
///
/// nf_tables names objects, it has no indexes we could cache, so every element request carries
/// these three; a missing table or set comes back as ENOENT, which callers read as "the
/// skeleton is not there yet".
package struct NftablesSet: Hashable, Sendable, CustomStringConvertible {
    package let family: NftablesFamily
    package let table: String
    package let name: String

    package init(family: NftablesFamily, table: String, name: String) {
        self.family = family
        self.table = table
        self.name = name
    }

    package var description: String { "\(family) \(table) \(name)" }
}

/// The nfgenmsg family of a table (NFPROTO_*), as nft writes it.
package enum NftablesFamily: UInt8, Sendable, CustomStringConvertible {
    case ip = 2
    case inet = 1
    case bridge = 7
    case ip6 = 10

    package var description: String {
        switch self {
        case .ip: return "ip"
        case .inet: return "inet"
        case .bridge: return "bridge"
        case .ip6: return "ip6"
        }
    }
}
