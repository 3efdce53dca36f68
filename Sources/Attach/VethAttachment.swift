import CNI
import NetNS
import Netlink
import NetTypes
#if canImport(Glibc)
import Glibc
#endif

/// A veth pair between a container and the node's bridge: created in the container's
/// namespace with its peer placed directly in the node's (one request, no move step).
struct VethAttachment {
    /// The node's end: what the plugin chose (name, MAC) plus the index the kernel gave it.
    struct HostEnd {
        let index: Int32
        let name: String
        let mac: MACAddress
    }

    let container: Link
    let host: HostEnd

    /// Creates the pair with a random `veth`-prefixed host name, retrying on a name clash.
    ///
    /// The host end's MAC is drawn here (random, locally administered, as the kernel would)
    /// and the container end comes back echoed by the create, whose IFLA_LINK is the host
    /// end's index: no lookup of either end after the create. A MAC set at creation is also
    /// one udev's MACAddressPolicy leaves alone, so the MAC in the result stays true.
    package static func create(ifname: String, in container: ContainerNamespace, hostNamespace: NetworkNamespace,
                       hostSocket: RouteSocket, mtu: Int?, mac: MACAddress?) throws -> VethAttachment {
        for _ in 0..<4 {
            let hostName = randomHostName()
            let hostMAC = MACAddress.random()
            let echoed: Link?
            do {
                echoed = try container.socket.createVethPair(name: ifname, peerName: hostName,
                                                             peerNamespaceFD: hostNamespace.fd, mtu: mtu, mac: mac,
                                                             peerMac: hostMAC)
            } catch {
                if error.errno != EEXIST { throw error }
                if try container.socket.link(named: ifname) != nil {
                    throw PluginError(.invalidEnvironment, "CNI_IFNAME \(ifname) already exists in container netns \(container.namespace.path)")
                }
                continue  // the random host name was taken: draw another
            }
            // The lookups are only for a kernel that does not echo the new link.
            guard let c = try echoed ?? container.socket.link(named: ifname),
                  let hostIndex = try c.parentIndex ?? hostSocket.link(named: hostName)?.index else {
                throw PluginError(.failed, "veth \(ifname)/\(hostName) was created but cannot be found")
            }
            return VethAttachment(container: c, host: HostEnd(index: hostIndex, name: hostName, mac: hostMAC))
        }
        throw PluginError(.failed, "could not find a free host-side veth name after 4 tries")
    }

    static func randomHostName() -> String {
        var g = SystemRandomNumberGenerator()
        let n = UInt32.random(in: 0...UInt32.max, using: &g)
        let hex = String(n, radix: 16)
        return "veth" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Joins the host end to the bridge with the port options of the config, and brings it up.
    /// One round trip: the kernel applies a datagram's requests in order, so the port is
    /// still configured before it comes up; the first refusal is thrown. Unlike one request
    /// at a time, the requests after a refused one are still tried, which changes nothing
    /// that matters: a failing ADD deletes the veth, and every option with it.
    ///
    /// In the same datagram, the node's neighbour entries on the bridge for `addresses` (the
    /// container's), where such entries exist, are pointed at the new container's MAC: an
    /// address handed out again would otherwise be sent to the previous holder's MAC (gone)
    /// until the entry expires, seconds of lost traffic for everything the node routes to the
    /// container. The container's own gratuitous ARP (arp_notify) is a broadcast that a
    /// filter or an early send can lose; this does not depend on it.
    func attachHostSide(to bridge: Link, socket: RouteSocket, config: BridgeConfig,
                        refreshingNeighboursOf addresses: [IPAddress] = []) throws {
        var requests: [NetlinkRequest] = [.setLink(index: host.index, masterIndex: bridge.index)]
        if config.hairpinMode || config.portIsolation {
            requests.append(.setBridgePort(index: host.index, BridgePortOptions(hairpin: config.hairpinMode ? true : nil,
                                                                                isolated: config.portIsolation ? true : nil)))
        }
        if config.usesVLANs && !config.preserveDefaultVlan {
            requests.append(.deleteBridgeVLANs(index: host.index, [BridgeVLAN(vid: 1)]))
        }
        if config.vlan != 0 {
            requests.append(.addBridgeVLANs(index: host.index, [BridgeVLAN(vid: UInt16(config.vlan), pvid: true, untagged: true)]))
        }
        if !config.vlanTrunk.isEmpty {
            requests.append(.addBridgeVLANs(index: host.index, config.vlanTrunk.map { BridgeVLAN(vids: UInt16($0.minID)...UInt16($0.maxID)) }))
        }
        requests.append(.setLink(index: host.index, up: true))
        // Best effort: ENOENT (no entry to refresh) is the usual answer.
        let refreshes = container.mac.map { mac in
            addresses.map { NetlinkRequest.refreshNeighbour($0, mac: mac, index: bridge.index) }
        } ?? []
        try performAll(requests, thenBestEffort: refreshes, socket: socket)
    }

    /// Addresses, link up, then routes, inside the container. IPv6 is switched on for the
    /// interface only when an IPv6 address is assigned; DAD stays off unless asked for, so
    /// addresses are usable at once (the reference waits for DAD, costing seconds).
    func configureContainerSide(_ result: CNIResult, in ns: ContainerNamespace, enableDAD: Bool) throws {
        let socket = ns.socket
        if result.ips.contains(where: { $0.address.family == .v6 }) {
            let ifname = container.name
            try ns.namespace.runOnCallingThread {
                try Sysctl.set("net/ipv6/conf/\(ifname)/disable_ipv6", "0")
                if !enableDAD { try Sysctl.set("net/ipv6/conf/\(ifname)/accept_dad", "0") }
            }
        }
        try performAll(Self.containerRequests(for: result, index: container.index, enableDAD: enableDAD), socket: socket)
    }

    /// What the container side is configured with, in one datagram: arp_notify, the
    /// addresses, link up, the routes. Apart so that the fuzz-ipam-result target builds the
    /// very requests an IPAM result becomes.
    static func containerRequests(for result: CNIResult, index: Int32, enableDAD: Bool) -> [NetlinkRequest] {
        // arp_notify=1 as the reference sets it, before the link comes up: the container
        // then announces its IPv4 addresses with a gratuitous ARP on up and on MAC changes,
        // so the other containers on the bridge replace a stale entry for a reused address
        // at once (attachHostSide refreshes the node's own entries directly).
        var requests: [NetlinkRequest] = []
        if result.ips.contains(where: { $0.address.family == .v4 }) {
            requests.append(.setLink(index: index, arpNotify: true))
        }
        requests += result.ips.map {
            .addAddress($0.address, index: index, noDAD: !enableDAD)
        }
        requests.append(.setLink(index: index, up: true))
        // The route attributes are netlink's types already (CNIResult checked them when it
        // read the result): nothing here can trap on an IPAM plugin's numbers.
        let routes = result.routes.map { r -> Route in
            let gw = r.gateway ?? result.ips.first(where: { $0.address.family == r.destination.family })?.gateway
            return Route(destination: r.destination.network, gateway: gw, outputIndex: index,
                         priority: r.priority, mtu: r.mtu, advmss: r.advmss)
        }
        // Routes in the same datagram, after the addresses and the link: the kernel handles a
        // datagram's requests one by one, in order, so their gateways are already on-link.
        requests += routes.map { NetlinkRequest.addRoute($0, replace: true) }
        return requests
    }

    /// One round trip for a batch; the first failure of `requests` (if any) is thrown, while
    /// `bestEffort` ones, sent after them in the same datagram, may fail unnoticed.
    private func performAll(_ requests: [NetlinkRequest], thenBestEffort bestEffort: [NetlinkRequest] = [],
                            socket: RouteSocket) throws {
        guard !requests.isEmpty || !bestEffort.isEmpty else { return }
        for outcome in try socket.perform(requests + bestEffort).prefix(requests.count) {
            try outcome.get()
        }
    }
}
