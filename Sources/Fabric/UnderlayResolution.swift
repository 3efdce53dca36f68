import NetTypes
import Netlink

/// The decision behind `Underlay.resolve`, over already-read links, addresses and routes,
/// so every branch and message is unit-tested without a namespace.
extension Underlay {
    static func resolve(interface: String?, publicIP: IPAddress?, links: [Link],
                        addresses: [InterfaceAddress], routes: [Route]) throws(DataplaneError) -> Underlay {
        let usable = addresses.filter { $0.prefix.family == .v4 && $0.scope != .host }
        let link: Link
        var local: IPAddress?
        if let interface {
            if let address = IPAddress(interface) {
                guard let owner = usable.first(where: { $0.prefix.address == address }),
                      let found = links.first(where: { $0.index == owner.index }) else {
                    throw DataplaneError("address \(address) (--iface) is not assigned to any interface")
                }
                link = found
                local = address
            } else {
                guard let found = links.first(where: { $0.name == interface }) else {
                    throw DataplaneError("interface \(interface) not found")
                }
                link = found
            }
        } else if let publicIP, let owner = usable.first(where: { $0.prefix.address == publicIP }),
                  let found = links.first(where: { $0.index == owner.index }) {
            link = found
            local = publicIP
        } else {
            let defaults = routes.filter { $0.destination.length == 0 && $0.destination.family == .v4 && $0.outputIndex != nil && $0.type == .unicast }
            guard let route = defaults.min(by: { ($0.priority ?? 0) < ($1.priority ?? 0) }),
                  let found = links.first(where: { $0.index == route.outputIndex }) else {
                let hint = publicIP.map { "public IP \($0) is not on any interface and there is " } ?? "there is "
                throw DataplaneError(hint + "no IPv4 default route to pick the underlay interface from; pass --iface")
            }
            link = found
        }
        let onLink = usable.filter { $0.index == link.index }
        if local == nil, let publicIP, onLink.contains(where: { $0.prefix.address == publicIP }) {
            local = publicIP
        }
        // Primary (non-secondary) addresses first, as the kernel picks source addresses.
        guard let address = local ?? (onLink.first { !$0.flags.contains(.secondary) } ?? onLink.first)?.prefix.address else {
            throw DataplaneError("interface \(link.name) has no IPv4 address")
        }
        return Underlay(index: link.index, name: link.name, mtu: link.mtu, localAddress: address,
                        publicIP: publicIP ?? address)
    }

    /// The networks directly connected on this link (its IPv4 addresses' prefixes): a peer
    /// inside one is L2-adjacent, so a route `via peer-ip dev <underlay>` reaches it.
    static func connectedNetworks(of index: Int32, in addresses: [InterfaceAddress]) -> [IPPrefix] {
        addresses.filter { $0.index == index && $0.prefix.family == .v4 && $0.scope != .host }.map(\.prefix.network)
    }
}
