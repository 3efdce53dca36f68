import NetTypes
import Netlink

/// The v6 side of the underlay: the interface's global IPv6 address, as flanneld takes it
/// for `PublicIPv6` when it runs dual-stack.
extension Underlay {
    /// This underlay with its IPv6 address read from the interface: `publicIPv6` when it is
    /// on the interface, else the interface's first global (not link-local, not tentative
    /// or failed) address. `publicIPv6` (default: that address) is what the node publishes;
    /// it may be an address on no interface. Both stay nil when there is none: check
    /// `ipv6Problem` (the agent reports it as not-ready; dual-stack dataplanes refuse).
    package func withIPv6(publicIPv6: IPAddress? = nil, socket: RouteSocket) throws(DataplaneError) -> Underlay {
        let addresses: [InterfaceAddress]
        do {
            addresses = try socket.addresses(family: .v6, index: index)
        } catch {
            throw DataplaneError("cannot read the IPv6 addresses of \(name)", error)
        }
        return withIPv6(publicIPv6: publicIPv6, addresses: addresses)
    }

    func withIPv6(publicIPv6: IPAddress?, addresses: [InterfaceAddress]) -> Underlay {
        let global = addresses.filter {
            $0.index == index && $0.prefix.family == .v6 && Self.isGlobalIPv6($0)
                && $0.flags.isDisjoint(with: [.tentative, .dadFailed])
        }.map(\.prefix.address)
        let local = publicIPv6.flatMap { global.contains($0) ? $0 : nil } ?? global.first
        return Underlay(index: index, name: name, mtu: mtu, localAddress: localAddress, publicIP: publicIP,
                        localIPv6: local, publicIPv6: local == nil ? nil : (publicIPv6 ?? local))
    }

    /// Nil when the v6 side can run; else why not, in words for `/readyz`.
    package var ipv6Problem: String? {
        guard localIPv6 != nil, publicIPv6 != nil else {
            return "\(name) has no global IPv6 address; a dual-stack node needs one (add it, or pick the interface with --iface)"
        }
        return nil
    }

    static func isGlobalIPv6(_ address: InterfaceAddress) -> Bool {
        address.scope == .universe && !address.prefix.address.isLinkLocalV6
    }

    /// The underlay's directly connected IPv6 networks; link-local ones do not count (every
    /// link has fe80::/64, so it says nothing about adjacency).
    static func connectedIPv6Networks(of index: Int32, in addresses: [InterfaceAddress]) -> [IPPrefix] {
        addresses.filter { $0.index == index && $0.prefix.family == .v6 && isGlobalIPv6($0) }.map(\.prefix.network)
    }
}
