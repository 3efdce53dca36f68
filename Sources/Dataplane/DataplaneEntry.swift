import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// One kernel object the dataplane owns: a permanent neighbour or an FDB entry on the VXLAN
/// device, or a route carrying `RouteProtocol.swiftCNI`.
///
/// Desired state (from peers) and actual state (from dumps) are both lists of these, so the
/// diff is plain value comparison.
enum DataplaneEntry: Hashable, Sendable, CustomStringConvertible {
    case neighbour(index: Int32, address: IPAddress, mac: MACAddress)
    case fdb(index: Int32, mac: MACAddress, destination: IPAddress)
    case route(RouteEntry)

    /// What identifies an entry in the kernel: one neighbour per address on the device, one
    /// FDB entry per MAC and destination, one of our routes per destination.
    enum Key: Hashable, Sendable {
        case neighbour(IPAddress)
        case fdb(MACAddress, IPAddress)
        case route(IPPrefix)
    }

    var key: Key {
        switch self {
        case .neighbour(_, let address, _): return .neighbour(address)
        case .fdb(_, let mac, let destination): return .fdb(mac, destination)
        case .route(let route): return .route(route.destination)
        }
    }

    /// The overlay family the entry serves: a v6 tunnel's FDB entry points at a v6 underlay.
    var family: IPAddress.Family {
        switch self {
        case .neighbour(_, let address, _): return address.family
        case .fdb(_, _, let destination): return destination.family
        case .route(let route): return route.destination.family
        }
    }

    var description: String {
        switch self {
        case .neighbour(let index, let address, let mac): return "neighbour \(address) lladdr \(mac) dev \(index)"
        case .fdb(let index, let mac, let destination): return "fdb \(mac) dst \(destination) dev \(index)"
        case .route(let route): return "\(route)"
        }
    }

    /// The request that creates the entry, or (`replacing`) overwrites the wrong one with the
    /// same key in place, so traffic never falls through to another route meanwhile.
    /// Neighbours and FDB entries are always written with replace: that also repairs an
    /// entry the kernel created on its own (an INCOMPLETE neighbour) and needs no listing
    /// to be right. A FDB replace leaves the MAC with exactly this one destination.
    func addRequest(replacing: Bool) -> NetlinkRequest {
        switch self {
        case .neighbour(let index, let address, let mac):
            return .addNeighbour(address, mac: mac, index: index, replace: true)
        case .fdb(let index, let mac, let destination):
            return .addFDBEntry(mac: mac, destination: destination, index: index, mode: .replace)
        case .route(let route):
            return .addRoute(route.route, replace: replacing)
        }
    }

    var deleteRequest: NetlinkRequest {
        switch self {
        case .neighbour(let index, let address, _): return .deleteNeighbour(address, index: index)
        case .fdb(let index, let mac, let destination): return .deleteFDBEntry(mac: mac, destination: destination, index: index)
        case .route(let route): return .deleteRoute(route.route)
        }
    }

    /// Removals go routes first, then FDB, then neighbours (nothing routes to a gateway whose
    /// entries are gone); additions the other way round, route last, as flannel does (a
    /// route first would make the kernel ARP for a gateway nobody answers).
    var additionRank: Int {
        switch self {
        case .neighbour: return 0
        case .fdb: return 1
        case .route: return 2
        }
    }
}

/// The parts of a route the dataplane sets and compares. Everything else (scope, table,
/// protocol) is fixed, so a read-back route equals the desired one exactly when it is right.
struct RouteEntry: Hashable, Sendable, CustomStringConvertible {
    var destination: IPPrefix
    var gateway: IPAddress?
    var outputIndex: Int32?
    var onlink: Bool
    /// Only read back; ours have none. A route of ours with a metric is a duplicate to delete.
    var priority: UInt32? = nil

    init(destination: IPPrefix, gateway: IPAddress?, outputIndex: Int32?, onlink: Bool, priority: UInt32? = nil) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.onlink = onlink
        self.priority = priority == 0 ? nil : priority
    }

    init(_ route: Route) {
        self.init(destination: route.destination, gateway: route.gateway, outputIndex: route.outputIndex,
                  onlink: route.onlink, priority: route.priority)
    }

    /// The metric the kernel gives an IPv6 route added without one: ours carry it
    /// explicitly, so a read-back v6 route compares equal to the desired one.
    static let ipv6DefaultMetric: UInt32 = 1024

    var route: Route {
        Route(destination: destination, gateway: gateway, outputIndex: outputIndex,
              routeProtocol: .swiftCNI, priority: priority, onlink: onlink)
    }

    var description: String {
        var text = "route \(destination)"
        if let gateway { text += " via \(gateway)" }
        if let outputIndex { text += " dev \(outputIndex)" }
        if onlink { text += " onlink" }
        if let priority { text += " metric \(priority)" }
        return text
    }
}
