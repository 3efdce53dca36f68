/// Which nf_tables set a request is about: family, table and set name.
///
/// nf_tables names objects, it has no indexes we could cache, so every element request carries
/// these three; a missing table or set comes back as ENOENT, which callers read as "the
/// skeleton is not there yet".
public struct NftablesSet: Hashable, Sendable, CustomStringConvertible {
    public let family: NftablesFamily
    public let table: String
    public let name: String

    public init(family: NftablesFamily, table: String, name: String) {
        self.family = family
        self.table = table
        self.name = name
    }

    public var description: String { "\(family) \(table) \(name)" }
}

/// The nfgenmsg family of a table (NFPROTO_*), as nft writes it.
public enum NftablesFamily: UInt8, Sendable, CustomStringConvertible {
    case ip = 2
    case inet = 1
    case bridge = 7
    case ip6 = 10

    public var description: String {
        switch self {
        case .ip: return "ip"
        case .inet: return "inet"
        case .bridge: return "bridge"
        case .ip6: return "ip6"
        }
    }
}
