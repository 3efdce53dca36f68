import CMnl
import Glibc

/// Per-port bridge settings. Nil leaves a setting as it is.
package struct BridgePortOptions: Hashable, Sendable {
    /// Reflect frames back out the port they came in on (hairpin mode), so a container can
    /// reach itself through a service address.
    package var hairpin: Bool?
    /// Isolated ports can talk only to non-isolated ports.
    package var isolated: Bool?
    /// Learn source MACs on this port.
    package var learning: Bool?

    package init(hairpin: Bool? = nil, isolated: Bool? = nil, learning: Bool? = nil) {
        self.hairpin = hairpin
        self.isolated = isolated
        self.learning = learning
    }
}

extension NetlinkRequest {
    /// RTM_SETLINK for family AF_BRIDGE: the bridge driver applies IFLA_PROTINFO to the
    /// port `index` (which must already be enslaved to a bridge).
    package static func setBridgePort(index: Int32, _ options: BridgePortOptions) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.appendNested(IFLA_PROTINFO, markNested: true) { port in
            if let hairpin = options.hairpin { port.append(IFLA_BRPORT_MODE, flag: hairpin) }
            if let learning = options.learning { port.append(IFLA_BRPORT_LEARNING, flag: learning) }
            if let isolated = options.isolated { port.append(IFLA_BRPORT_ISOLATED, flag: isolated) }
        }
        return NetlinkRequest(operation: "set bridge port options on link \(index)", messageType: RTM_SETLINK,
                              header: linkHeader(family: AF_BRIDGE, index: index), attributes: attributes)
    }
}

extension RouteSocket {
    package func setBridgePort(index: Int32, _ options: BridgePortOptions) throws(NetlinkError) {
        try perform(.setBridgePort(index: index, options))
    }
}
