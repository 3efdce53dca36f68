import Nftables
import CNI
import Netlink
import NetTypes

/// CHECK: everything ADD created is still there, judged against prevResult. Each failure
/// names the missing piece.
struct BridgeCheck {
    let invocation: Invocation
    let config: BridgeConfig

    func run() throws {
        let env = invocation.environment
        guard let prev = invocation.config.prevResult else {
            throw PluginError(.invalidConfig, "CHECK needs prevResult (the result of ADD)")
        }
        if let type = config.ipamType { try IPAMClient(type: type, invocation: invocation).check() }

        let hostSocket = try RouteSocket()
        guard let bridge = try hostSocket.link(named: config.bridge), bridge.kind == "bridge" else {
            throw PluginError(.failed, "CHECK: bridge \(config.bridge) is missing")
        }
        let container = try ContainerNamespace(path: env.netns)
        guard let link = try container.socket.link(named: env.ifname) else {
            throw PluginError(.failed, "CHECK: interface \(env.ifname) is missing in \(env.netns)")
        }
        guard link.kind == "veth" else {
            throw PluginError(.failed, "CHECK: \(env.ifname) in \(env.netns) is a \(link.kind ?? "non-veth") device, not a veth")
        }
        if let want = prev.interfaces.first(where: { $0.name == env.ifname && $0.sandbox != nil })?.mac,
           link.mac != want {
            throw PluginError(.failed, "CHECK: \(env.ifname) has MAC \(link.mac.map(\.description) ?? "none"), expected \(want)")
        }
        // The host end: the veth whose peer is our container interface, enslaved to the bridge.
        let hostName = prev.interfaces.first(where: { $0.sandbox == nil && $0.name != config.bridge })?.name
        if let hostName {
            guard let host = try hostSocket.link(named: hostName) else {
                throw PluginError(.failed, "CHECK: host veth \(hostName) is missing")
            }
            guard host.masterIndex == bridge.index else {
                throw PluginError(.failed, "CHECK: host veth \(hostName) is not attached to bridge \(config.bridge)")
            }
        }
        if config.macSpoofCheck {
            guard let mac = link.mac else { throw PluginError(.failed, "CHECK: \(env.ifname) has no MAC address") }
            try MacSpoofCheck().verify(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname,
                                       port: hostName, mac: mac)
        }
        if !config.disableContainerInterface {
            try checkAddressesAndRoutes(prev, link: link, socket: container.socket)
        }
        if config.ipMasq && !prev.ips.isEmpty {
            try Masquerade().verify(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname,
                                    addresses: prev.ips.map(\.address))
        }
    }

    private func checkAddressesAndRoutes(_ prev: CNIResult, link: Link, socket: RouteSocket) throws {
        let present = Set(try socket.addresses(index: link.index).map(\.prefix))
        for ip in prev.ips where !present.contains(ip.address) {
            throw PluginError(.failed, "CHECK: address \(ip.address) is missing on \(link.name)")
        }
        for family in Set(prev.routes.map(\.destination.family)) {
            let routes = try socket.routes(family: family)
            for want in prev.routes where want.destination.family == family {
                let found = routes.contains { r in
                    r.destination == want.destination.network && (want.gateway == nil || r.gateway == want.gateway)
                }
                if !found {
                    throw PluginError(.failed, "CHECK: route \(want.destination)\(want.gateway.map { " via \($0)" } ?? "") is missing in the container")
                }
            }
        }
    }
}
