import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The entries the dataplane owns as the kernel has them now: one dump each for routes,
/// neighbours and FDB entries, whatever the number of peers.
struct ReconcileKernelState {
    package var entries: [DataplaneEntry] = []
    /// Main-table destinations routed by someone else (kernel, admin, other daemons).
    var foreignRoutes: Set<IPPrefix> = []
    var roundTrips = 0

    /// - Parameters:
    ///   - device: the VXLAN device whose neighbours and FDB entries are ours; nil
    ///     (host-gw) reads routes only.
    ///   - ipv6: nil: IPv4 only. Dual-stack: the main table's IPv6 routes too, and the v6
    ///     VXLAN device's neighbours and FDB entries when it is given.
    package static func read(_ socket: RouteSocket, device: Int32?, ipv6: Int32?? = nil) throws(NetlinkError) -> ReconcileKernelState {
        var state = try read(socket, family: .v4, device: device)
        if let ipv6 {
            let v6 = try read(socket, family: .v6, device: ipv6)
            state.entries += v6.entries
            state.foreignRoutes.formUnion(v6.foreignRoutes)
            state.roundTrips += v6.roundTrips
        }
        return state
    }

    private static func read(_ socket: RouteSocket, family: IPAddress.Family, device: Int32?) throws(NetlinkError) -> ReconcileKernelState {
        var state = ReconcileKernelState()
        for route in try socket.routes(family: family, table: Route.mainTable) {
            if route.routeProtocol == .swiftCNI {
                state.entries.append(.route(RouteEntry(route)))
            } else {
                state.foreignRoutes.insert(route.destination)
            }
        }
        state.roundTrips += 1
        guard let device else { return state }
        // Only permanent neighbours are ours: the kernel's own (INCOMPLETE, REACHABLE, ...)
        // come and go by themselves, and one at a desired address is simply overwritten.
        for neighbour in try socket.neighbours(family: family, index: device) where neighbour.isPermanent {
            guard let mac = neighbour.mac else { continue }
            state.entries.append(.neighbour(index: device, address: neighbour.address, mac: mac))
        }
        for fdb in try socket.fdbEntries(index: device) {
            guard let destination = fdb.destination else { continue }
            state.entries.append(.fdb(index: device, mac: fdb.mac, destination: destination))
        }
        state.roundTrips += 2
        return state
    }
}
