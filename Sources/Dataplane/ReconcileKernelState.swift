import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The entries the dataplane owns as the kernel has them now: one dump each for routes,
/// neighbours and FDB entries, whatever the number of peers.
struct ReconcileKernelState {
    package var entries: [DataplaneEntry] = []
    /// Main-table IPv4 destinations routed by someone else (kernel, admin, other daemons).
    var foreignRoutes: Set<IPPrefix> = []
    var roundTrips = 0

    /// - Parameter device: the VXLAN device whose neighbours and FDB entries are ours; nil
    ///   (host-gw) reads routes only.
    package static func read(_ socket: RouteSocket, device: Int32?) throws(NetlinkError) -> ReconcileKernelState {
        var state = ReconcileKernelState()
        for route in try socket.routes(family: .v4, table: Route.mainTable) {
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
        for neighbour in try socket.neighbours(family: .v4, index: device) where neighbour.isPermanent {
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
