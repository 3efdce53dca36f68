import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The node's link to the other nodes: where VXLAN packets leave and host-gw next hops live.
package struct Underlay: Hashable, Sendable, CustomStringConvertible {
    package let index: Int32
    package let name: String
    package let mtu: Int
    /// The address on the interface: the VXLAN device's local (source) address.
    package let localAddress: IPAddress
    /// The address other nodes reach us at, published in the lease. The same as
    /// `localAddress` unless `--public-ip` names an address behind NAT.
    package let publicIP: IPAddress
    /// The interface's global IPv6 address (the v6 VXLAN device's local address) and the one
    /// published as `PublicIPv6` (`--public-ipv6`, default the local one); nil on an
    /// IPv4-only node or before `withIPv6`. A dual-stack dataplane refuses to run without.
    package let localIPv6: IPAddress?
    package let publicIPv6: IPAddress?

    package init(index: Int32, name: String, mtu: Int, localAddress: IPAddress, publicIP: IPAddress,
                 localIPv6: IPAddress? = nil, publicIPv6: IPAddress? = nil) {
        self.index = index
        self.name = name
        self.mtu = mtu
        self.localAddress = localAddress
        self.publicIP = publicIP
        self.localIPv6 = localIPv6
        self.publicIPv6 = publicIPv6 ?? localIPv6
    }

    package var description: String {
        var text = "\(name) (index \(index), mtu \(mtu), address \(localAddress)" + (publicIP == localAddress ? "" : ", public \(publicIP)")
        if let localIPv6 { text += ", address \(localIPv6)" }
        if let publicIPv6, publicIPv6 != localIPv6 { text += ", public \(publicIPv6)" }
        return text + ")"
    }

    /// Finds the underlay the way flanneld does (`UnderlayChoice`): each `--iface` in turn
    /// (a name, or an address on some link), else the `--iface-regex` patterns against the
    /// IPv4 addresses then the link names, else the link of the most specific route to
    /// `--iface-can-reach`, else `publicIP` when it is on a link, else the link of the IPv4
    /// default route (lowest metric).
    ///
    /// The local address is the address that matched, else `publicIP` when it is on the
    /// link, else the link's first IPv4 address. `publicIP` (default: the local address) is
    /// what the node publishes; it may be a NAT address that is on no interface.
    package static func resolve(choice: UnderlayChoice, publicIP: IPAddress? = nil,
                               socket: RouteSocket) throws(DataplaneError) -> Underlay {
        do {
            let links = try socket.links()
            let addresses = try socket.addresses(family: .v4)
            let routes = try socket.routes(family: .v4, table: Route.mainTable)
            return try resolve(choice: choice, publicIP: publicIP, links: links, addresses: addresses, routes: routes)
        } catch let error as NetlinkError {
            throw DataplaneError("cannot read the node's interfaces", error)
        } catch let error as DataplaneError {
            throw error
        } catch {
            throw DataplaneError("\(error)")
        }
    }

    /// One `--iface` (or none): the common case and the tests' shorthand.
    package static func resolve(interface: String? = nil, publicIP: IPAddress? = nil,
                               socket: RouteSocket) throws(DataplaneError) -> Underlay {
        try resolve(choice: UnderlayChoice(interfaces: interface.map { [$0] } ?? []), publicIP: publicIP, socket: socket)
    }
}
