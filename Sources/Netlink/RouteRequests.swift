import CMnl
import Glibc
import NetTypes

/// Requests that add, delete and list routes (RTM_*ROUTE).
extension NetlinkRequest {
    /// Adds a route; with `replace` an existing route to the same destination (same table,
    /// metric) is overwritten instead of failing with EEXIST.
    package static func addRoute(_ route: Route, replace: Bool = false) -> NetlinkRequest {
        let mode = replace ? NLM_F_REPLACE : NLM_F_EXCL
        return NetlinkRequest(operation: "add route \(describe(route))", messageType: RTM_NEWROUTE,
                              extraFlags: NLM_F_CREATE | mode,
                              header: routeHeader(route, scope: route.scope, routeProtocol: route.routeProtocol),
                              attributes: routeAttributes(route))
    }

    /// Deletes the route that matches `route`'s destination, table, type, metric, gateway and
    /// output link. Scope and protocol are left open, as `ip route del` does, so a route
    /// added by another tool still matches.
    package static func deleteRoute(_ route: Route) -> NetlinkRequest {
        NetlinkRequest(operation: "delete route \(describe(route))", messageType: RTM_DELROUTE,
                       header: routeHeader(route, scope: .nowhere, routeProtocol: .unspecified),
                       attributes: routeAttributes(route))
    }

    /// With strict checking on, `table` (RTA_TABLE, as `ip route show table` sends it) makes
    /// the kernel return only that table's routes; IPv4 answers ENOENT for a table that does
    /// not exist. Cached exceptions (RTM_F_CLONED) are then left out, as `ip route` shows it.
    static func dumpRoutes(family: IPAddress.Family?, table: UInt32? = nil) -> NetlinkRequest {
        var header = rtmsg()
        header.rtm_family = socketFamily(family)
        var attributes = AttributeWriter()
        if let table { attributes.append(RTA_TABLE.rawValue, uint32: table) }
        return .dump(operation: "list routes", messageType: RTM_GETROUTE, header: structBytes(header),
                     attributes: attributes)
    }

    private static func routeHeader(_ route: Route, scope: Scope, routeProtocol: RouteProtocol) -> [UInt8] {
        var header = rtmsg()
        header.rtm_family = route.destination.family.socketFamily
        header.rtm_dst_len = UInt8(route.destination.length)
        // Tables above 255 only fit in RTA_TABLE; the header then says RT_TABLE_UNSPEC.
        header.rtm_table = route.table < 256 ? UInt8(route.table) : 0
        header.rtm_protocol = routeProtocol.rawValue
        header.rtm_scope = scope.rawValue
        header.rtm_type = route.type.rawValue
        header.rtm_flags = route.onlink ? UInt32(RTNH_F_ONLINK) : 0
        return structBytes(header)
    }

    private static func routeAttributes(_ route: Route) -> AttributeWriter {
        var attributes = AttributeWriter()
        if route.destination.length > 0 {
            attributes.append(RTA_DST.rawValue, route.destination.network.address.bytes)
        }
        if let gateway = route.gateway { attributes.append(RTA_GATEWAY.rawValue, gateway.bytes) }
        if let index = route.outputIndex { attributes.append(RTA_OIF.rawValue, int32: index) }
        if let source = route.preferredSource { attributes.append(RTA_PREFSRC.rawValue, source.bytes) }
        if let priority = route.priority { attributes.append(RTA_PRIORITY.rawValue, uint32: priority) }
        if route.table >= 256 { attributes.append(RTA_TABLE.rawValue, uint32: route.table) }
        if route.mtu != nil || route.advmss != nil {
            attributes.appendNested(RTA_METRICS.rawValue) { metrics in
                if let mtu = route.mtu { metrics.append(RTAX_MTU, uint32: mtu) }
                if let advmss = route.advmss { metrics.append(RTAX_ADVMSS, uint32: advmss) }
            }
        }
        return attributes
    }

    private static func describe(_ route: Route) -> String {
        var text = "\(route.destination)"
        if let gateway = route.gateway { text += " via \(gateway)" }
        if let index = route.outputIndex { text += " dev \(index)" }
        if route.table != Route.mainTable { text += " table \(route.table)" }
        return text
    }
}
