/// How far an address or route reaches (rt_scope_t), shared by addresses and routes.
public struct Scope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let universe = Scope(rawValue: 0)
    public static let site = Scope(rawValue: 200)
    /// Directly attached: routes without a gateway, IPv6 fe80::/10 addresses.
    public static let link = Scope(rawValue: 253)
    public static let host = Scope(rawValue: 254)
    public static let nowhere = Scope(rawValue: 255)

    public var description: String {
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
