/// How far an address or route reaches (rt_scope_t), shared by addresses and routes.
package struct Scope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let universe = Scope(rawValue: 0)
    package static let site = Scope(rawValue: 200)
    /// Directly attached: routes without a gateway, IPv6 fe80::/10 addresses.
    package static let link = Scope(rawValue: 253)
    package static let host = Scope(rawValue: 254)
    package static let nowhere = Scope(rawValue: 255)

    package var description: String {
        switch self {
        case .universe: return "global"
        case .site: return "site"
        case .link: return "link"
        case .host: return "host"
        case .nowhere: return "nowhere"
        default: return String(rawValue)
        }
    }
}
