import Nftables
import CNI
import NetNS
import Netlink
import NetTypes
#if canImport(Glibc)
import Glibc
#endif

/// The `bridge` plugin: a Linux bridge on the node and a veth pair per container, gateway on
/// the bridge, optional masquerade. Config-compatible with the reference plugin.
package struct BridgePlugin: Plugin {
    package init() {}

    package func add(_ invocation: Invocation) throws -> CNIResult {
        let config = try BridgeConfig(invocation.config)
        let env = invocation.environment
        let mac = try invocation.config.requestedMAC(args: env.args)
        let hostNamespace: NetworkNamespace
        do { hostNamespace = try NetworkNamespace.current() } catch {
            throw PluginError(.failed, "cannot open the node's network namespace", details: error.description)
        }
        let container = try ContainerNamespace(path: env.netns, node: hostNamespace)
        let hostSocket = try RouteSocket()
        let bridge = HostBridge(socket: hostSocket, config: config)
        let bridgeLink = try bridge.ensure()

        // The veth before IPAM, as the reference orders it: its create refuses an existing
        // CNI_IFNAME (VethAttachment.create words that error), which saves a lookup, and an ADD
        // for an interface that is already there never reaches IPAM, so its rollback cannot
        // release the address the existing attachment holds.
        let created = try VethAttachment.create(ifname: env.ifname, in: container, hostNamespace: hostNamespace,
                                                hostSocket: hostSocket, mtu: config.mtu, mac: mac)
        var result = CNIResult()
        let ipam = config.ipamType.map { IPAMClient(type: $0, invocation: invocation) }
        var ipamAdded = false
        var spoofCheck: MacSpoofCheck?
        do {
            if let ipam {
                result = try ipam.add()
                ipamAdded = true
            }
            if config.macSpoofCheck {
                // Before the port joins the bridge and comes up, so no frame passes unchecked.
                spoofCheck = try Self.guardPort(of: created, invocation: invocation)
            }
            try created.attachHostSide(to: bridgeLink, socket: hostSocket, config: config,
                                       refreshingNeighboursOf: result.ips.map(\.address.address))
            result = Self.shape(result, config: config, bridge: bridgeLink, veth: created, netns: env.netns,
                                dnsJSON: invocation.config.raw["dns"])
            if config.isGateway { try bridge.ensureGateways(result.ips, on: bridgeLink) }
            if !config.disableContainerInterface {
                try created.configureContainerSide(result, in: container, enableDAD: config.enableDAD)
            }
            if config.ipMasq && !result.ips.isEmpty {
                try Masquerade().setUp(network: invocation.config.name, containerID: env.containerID,
                                       ifname: env.ifname, addresses: result.ips.map(\.address))
            }
            return result
        } catch {
            // Leave nothing behind: the spoof check's elements, the veth (both ends go with the
            // container end) and the addresses IPAM handed out.
            try? spoofCheck?.tearDown(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname)
            try? container.socket.deleteLink(index: created.container.index)
            if let ipam, ipamAdded { try? ipam.del() }
            throw error
        }
    }

    /// `macspoofchk`: only the container interface's MAC may enter the bridge through the host
    /// veth. Returns the check so a failing ADD can roll it back.
    static func guardPort(of veth: VethAttachment, invocation: Invocation) throws -> MacSpoofCheck {
        guard let mac = veth.container.mac else {
            throw PluginError(.failed, "cannot set up the MAC spoof check", details: "\(veth.container.name) has no MAC address")
        }
        let env = invocation.environment
        let check = MacSpoofCheck()
        try check.setUp(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname,
                        port: veth.host.name, mac: mac)
        return check
    }

    /// The result as the reference bridge shapes it: interfaces bridge, host veth, container
    /// veth; every IP on the container interface; the default route when the bridge is the
    /// default gateway; DNS from the network config.
    static func shape(_ ipamResult: CNIResult, config: BridgeConfig, bridge: Link, veth: VethAttachment, netns: String,
                      dnsJSON: JSONValue?) -> CNIResult {
        var r = ipamResult
        r.interfaces = [
            .init(name: bridge.name, mac: bridge.mac),
            .init(name: veth.host.name, mac: veth.host.mac),
            .init(name: veth.container.name, mac: veth.container.mac, sandbox: netns),
        ]
        for i in r.ips.indices {
            r.ips[i].interface = 2
            if config.isGateway && r.ips[i].gateway == nil {
                // The reference gives the bridge the subnet's first address when IPAM names none.
                r.ips[i].gateway = r.ips[i].address.network.address.advanced(by: 1)
            }
        }
        if config.isDefaultGateway {
            for ip in r.ips {
                let any = ip.address.family == .v4 ? IPPrefix("0.0.0.0/0")! : IPPrefix("::/0")!
                guard let gw = ip.gateway, !r.routes.contains(where: { $0.destination == any }) else { continue }
                r.routes.append(.init(destination: any, gateway: gw))
            }
        }
        // The config's `dns` wins, as in the reference; unlike it, IPAM's DNS (host-local's
        // resolvConf) is kept when the config has none.
        if let configured = dnsJSON.map(CNIResult.DNS.init(json:)), !configured.isEmpty { r.dns = configured }
        return r
    }

    package func del(_ invocation: Invocation) throws {
        let config = try BridgeConfig(invocation.config)
        let env = invocation.environment
        // The container-side veth goes on a helper thread while the nf_tables elements and the
        // IPAM release go on this one: the veth deletion waits for the kernel (an RCU grace
        // period, ~15 ms) and the rest runs meanwhile instead of after it. All of it is
        // idempotent, so a retried DEL is fine.
        let container = try ContainerNamespace.ifStillPresent(path: env.netns)
        let linkDeletion = container.map { container in
            BackgroundThread { try Self.deleteLink(named: env.ifname, socket: container.socket) }
        }
        do {
            // Masquerade before IPAM: once IPAM releases the address another container may
            // get it, and its fresh masquerade entries must not be the ones we remove.
            if config.ipMasq {
                try Masquerade().tearDown(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname,
                                          addresses: invocation.config.prevResult?.ips.map(\.address))
            }
            // By comment, so it also works once the netns (and with it the veth) is gone.
            if config.macSpoofCheck {
                try MacSpoofCheck().tearDown(network: invocation.config.name, containerID: env.containerID, ifname: env.ifname)
            }
        } catch {
            try? linkDeletion?.join()
            throw error
        }
        // The address may be handed out again while the old veth is still going away (for a
        // few ms at most); the reference plugin releases it before it even starts deleting
        // the link.
        let ipamFailure = Result { if let type = config.ipamType { try IPAMClient(type: type, invocation: invocation).del() } }
        try linkDeletion?.join()
        try ipamFailure.get()
    }

    /// Deletes a link if it exists; a link that is already gone is success (DEL is idempotent).
    static func deleteLink(named name: String, socket: RouteSocket) throws {
        guard let link = try socket.link(named: name) else { return }
        do {
            try socket.deleteLink(index: link.index)
        } catch {
            if error.errno != ENODEV { throw error }
        }
    }

    package func check(_ invocation: Invocation) throws {
        try BridgeCheck(invocation: invocation, config: BridgeConfig(invocation.config)).run()
    }

    package func gc(_ invocation: Invocation) throws {
        let config = try BridgeConfig(invocation.config)
        if let type = config.ipamType { try IPAMClient(type: type, invocation: invocation).gc() }
        let valid = Set(invocation.config.validAttachments)
        try Masquerade().garbageCollect(network: invocation.config.name, keeping: valid)
        // Whatever macspoofchk says now: elements may be left from when it was on.
        try MacSpoofCheck().garbageCollect(network: invocation.config.name, keeping: valid)
    }

    package func status(_ invocation: Invocation) throws {
        let config = try BridgeConfig(invocation.config)
        if let type = config.ipamType { try IPAMClient(type: type, invocation: invocation).status() }
    }
}
