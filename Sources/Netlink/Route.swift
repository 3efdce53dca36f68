import NetTypes

/// A route, for adding, deleting and listing (RTM_*ROUTE).
package struct Route: Hashable, Sendable {
    package static let mainTable: UInt32 = 254
    package static let localTable: UInt32 = 255

    package var destination: IPPrefix
    package var gateway: IPAddress?
    package var outputIndex: Int32?
    package var table: UInt32
    package var scope: Scope
    package var routeProtocol: RouteProtocol
    /// The metric: among routes to the same destination the lowest wins.
    package var priority: UInt32?
    package var preferredSource: IPAddress?
    /// Path MTU for this route (RTAX_MTU), e.g. to fit VXLAN encapsulation.
    package var mtu: UInt32?
    package var advmss: UInt32?
    /// RTNH_F_ONLINK: the gateway is reachable on `outputIndex` even though no address on
    /// that link covers it (flannel's `via peer-subnet.0 dev flannel.1 onlink`).
    package var onlink: Bool
    package var type: RouteType

    /// `scope` defaults as iproute2 does: link for a unicast route without a gateway,
    /// host for local routes, universe otherwise.
    package init(
        destination: IPPrefix, gateway: IPAddress? = nil, outputIndex: Int32? = nil,
        table: UInt32 = Route.mainTable, scope: Scope? = nil, routeProtocol: RouteProtocol = .boot,
        priority: UInt32? = nil, preferredSource: IPAddress? = nil, mtu: UInt32? = nil,
        advmss: UInt32? = nil, onlink: Bool = false, type: RouteType = .unicast
    ) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.table = table
        self.scope = scope ?? Self.defaultScope(type: type, hasGateway: gateway != nil)
        self.routeProtocol = routeProtocol
        self.priority = priority
        self.preferredSource = preferredSource
        self.mtu = mtu
        self.advmss = advmss
        self.onlink = onlink
        self.type = type
    }

    static func defaultScope(type: RouteType, hasGateway: Bool) -> Scope {
        switch type {
        case .local: return .host
        case .unicast where !hasGateway: return .link
        default: return .universe
        }
    }
}

/// Who installed a route (rtm_protocol); lets an agent find and clean up its own routes.
package struct RouteProtocol: RawRepresentable, Hashable, Sendable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let unspecified = RouteProtocol(rawValue: 0)
    package static let kernel = RouteProtocol(rawValue: 2)
    /// What `ip route add` uses by default.
    package static let boot = RouteProtocol(rawValue: 3)
    package static let `static` = RouteProtocol(rawValue: 4)
}

/// What the kernel does with matching packets (rtm_type).
package struct RouteType: RawRepresentable, Hashable, Sendable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let unicast = RouteType(rawValue: 1)
    package static let local = RouteType(rawValue: 2)
    package static let broadcast = RouteType(rawValue: 3)
    package static let multicast = RouteType(rawValue: 5)
    package static let blackhole = RouteType(rawValue: 6)
    package static let unreachable = RouteType(rawValue: 7)
    package static let prohibit = RouteType(rawValue: 8)
}
