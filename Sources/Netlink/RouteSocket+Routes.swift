import Glibc
import NetTypes

/// Route convenience methods: one request each, errors thrown.
extension RouteSocket {
    package func addRoute(_ route: Route, replace: Bool = false) throws(NetlinkError) {
        try perform(.addRoute(route, replace: replace))
    }

    package func deleteRoute(_ route: Route) throws(NetlinkError) {
        try perform(.deleteRoute(route))
    }

    /// Routes of one family (nil: both) in one table (nil: every table).
    /// The kernel filters by table (strict checking); the filter here only restates it.
    package func routes(family: IPAddress.Family? = nil, table: UInt32? = Route.mainTable) throws(NetlinkError) -> [Route] {
        let messages: [ReceivedMessage]
        do {
            messages = try dump(.dumpRoutes(family: family, table: table))
        } catch where table != nil && error.errno == ENOENT {
            return []  // no such table yet: no routes in it
        }
        return messages
            .compactMap(Route.init)
            .filter { route in table.map { route.table == $0 } ?? true }
    }
}
