import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The decision behind `Underlay.resolve`, over already-read links, addresses and routes,
/// so every branch and message is unit-tested without a namespace.
extension Underlay {
    static func resolve(choice: UnderlayChoice, publicIP: IPAddress?, links: [Link],
                        addresses: [InterfaceAddress], routes: [Route]) throws(DataplaneError) -> Underlay {
        let usable = addresses.filter { $0.prefix.family == .v4 && $0.scope != .host }
        func owner(of address: IPAddress) -> Link? {
            usable.first { $0.prefix.address == address }.flatMap { a in links.first { $0.index == a.index } }
        }
        var picked: (link: Link, local: IPAddress?)?
        if !choice.interfaces.isEmpty {
            // flanneld: the first --iface that exists wins; none found is an error.
            for name in choice.interfaces {
                if let address = IPAddress(name) {
                    if let link = owner(of: address) { picked = (link, address); break }
                } else if let link = links.first(where: { $0.name == name }) {
                    picked = (link, nil)
                    break
                }
            }
            guard picked != nil else {
                let list = choice.interfaces.joined(separator: ", ")
                throw DataplaneError(choice.interfaces.count == 1 && IPAddress(list) != nil
                    ? "address \(list) (--iface) is not assigned to any interface"
                    : choice.interfaces.count == 1 ? "interface \(list) not found"
                    : "none of the interfaces \(list) (--iface) exists")
            }
        } else if !choice.patterns.isEmpty {
            picked = try match(choice.patterns, links: links, usable: usable)
            guard picked != nil else {
                throw DataplaneError("no interface name or IPv4 address matches --iface-regex \(choice.patterns.joined(separator: ", "))")
            }
        } else if let target = choice.canReach {
            let candidates = routes.filter { $0.destination.contains(target) && $0.outputIndex != nil && $0.type == .unicast }
            guard let route = candidates.max(by: { ($0.destination.length, -Int64($0.priority ?? 0)) < ($1.destination.length, -Int64($1.priority ?? 0)) }),
                  let link = links.first(where: { $0.index == route.outputIndex }) else {
                throw DataplaneError("no route reaches \(target) (--iface-can-reach)")
            }
            picked = (link, route.preferredSource)
        } else if let publicIP, let link = owner(of: publicIP) {
            picked = (link, publicIP)
        } else {
            let defaults = routes.filter { $0.destination.length == 0 && $0.destination.family == .v4 && $0.outputIndex != nil && $0.type == .unicast }
            guard let route = defaults.min(by: { ($0.priority ?? 0) < ($1.priority ?? 0) }),
                  let link = links.first(where: { $0.index == route.outputIndex }) else {
                let hint = publicIP.map { "public IP \($0) is not on any interface and there is " } ?? "there is "
                throw DataplaneError(hint + "no IPv4 default route to pick the underlay interface from; pass --iface")
            }
            picked = (link, nil)
        }
        guard let (link, matched) = picked else { throw DataplaneError("no underlay interface") }
        let onLink = usable.filter { $0.index == link.index }
        var local = matched.flatMap { m in onLink.contains { $0.prefix.address == m } ? m : nil }
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

    /// flanneld's regex order: each pattern against every IPv4 address first, then against
    /// every interface name.
    static func match(_ patterns: [String], links: [Link], usable: [InterfaceAddress]) throws(DataplaneError) -> (Link, IPAddress?)? {
        for pattern in patterns {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch { throw DataplaneError("--iface-regex \(pattern): \(error)") }
            for a in usable where a.prefix.address.description.contains(regex) {
                if let link = links.first(where: { $0.index == a.index }) { return (link, a.prefix.address) }
            }
            for link in links.sorted(by: { $0.index < $1.index }) where link.name.contains(regex) {
                if usable.contains(where: { $0.index == link.index }) { return (link, nil) }
            }
        }
        return nil
    }

    /// The networks directly connected on this link (its IPv4 addresses' prefixes): a peer
    /// inside one is L2-adjacent, so a route `via peer-ip dev <underlay>` reaches it.
    static func connectedNetworks(of index: Int32, in addresses: [InterfaceAddress]) -> [IPPrefix] {
        addresses.filter { $0.index == index && $0.prefix.family == .v4 && $0.scope != .host }.map(\.prefix.network)
    }
}
