import CNI
import NetNS
import Netlink
import NetTypes
#if canImport(Glibc)
import Glibc
#endif

/// The node side: the Linux bridge the containers hang off, its gateway addresses and the
/// forwarding sysctls.
struct HostBridge {
    let socket: RouteSocket
    let config: BridgeConfig

    /// The bridge, created if missing and set up. An existing non-bridge link of that name
    /// is an error rather than something to tear down.
    func ensure() throws -> Link {
        if let existing = try socket.link(named: config.bridge) {
            return try adopt(existing)
        }
        do {
            // A MAC of its own: otherwise the bridge takes the lowest port MAC, which changes as
            // containers come and go (stale ARP entries for the gateway in every container) and
            // reads as 00:00:00:00:00:00 while no port is attached.
            try socket.createBridge(name: config.bridge, mtu: config.mtu, mac: MACAddress.random(),
                                    vlanFiltering: config.usesVLANs)
        } catch {
            // EEXIST: another ADD created it between our lookup and create; use theirs.
            if error.errno != EEXIST { throw error }
        }
        guard let created = try socket.link(named: config.bridge) else {
            throw PluginError(.failed, "bridge \(config.bridge) vanished right after it was created")
        }
        return try adopt(created)
    }

    private func adopt(_ link: Link) throws -> Link {
        guard link.kind == "bridge" else {
            throw PluginError(.failed, "\(config.bridge) already exists and is a \(link.kind ?? "non-bridge") device, not a bridge")
        }
        if config.usesVLANs && link.vlanFiltering == false {
            throw PluginError(.failed, "bridge \(config.bridge) exists without VLAN filtering, but this network uses VLANs",
                              details: "turn it on (ip link set \(config.bridge) type bridge vlan_filtering 1) or use another bridge name")
        }
        let wantPromisc = config.promiscMode && !link.isPromiscuous
        if !link.isUp || wantPromisc {
            try socket.setLink(index: link.index, up: true, promiscuous: wantPromisc ? true : nil)
        }
        return link
    }

    /// Puts each gateway address on the bridge. A different IPv4 address already there is
    /// refused with the remedy spelled out, unless `forceAddress` says to replace it.
    func ensureGateways(_ ips: [CNIResult.IPConfig], on bridge: Link) throws {
        let gateways = ips.compactMap { ip -> IPPrefix? in
            guard let gw = ip.gateway else { return nil }
            return IPPrefix(address: gw, length: ip.address.length)
        }
        guard !gateways.isEmpty else { return }
        let present = try socket.addresses(index: bridge.index)
        for gw in gateways {
            if present.contains(where: { $0.prefix == gw }) { continue }
            let conflicting = present.filter { existing in
                existing.prefix.family == gw.family && !existing.prefix.address.isLinkLocalV6
                    && (gw.family == .v4 || existing.prefix.overlaps(gw))
            }
            for old in conflicting {
                guard config.forceAddress else {
                    throw PluginError(.failed,
                        "bridge \(config.bridge) already has address \(old.prefix), but this network wants gateway \(gw)",
                        details: "another network or an earlier config uses this bridge; remove the old address (ip addr del \(old.prefix) dev \(config.bridge)), give this network its own \"bridge\" name, or set \"forceAddress\": true")
                }
                try socket.deleteAddress(old.prefix, index: bridge.index)
            }
            do {
                try socket.addAddress(gw, index: bridge.index, noDAD: true)
            } catch {
                // EEXIST: added concurrently by another ADD for the same network.
                if error.errno != EEXIST { throw error }
            }
        }
        try enableForwarding(for: gateways.map(\.family))
    }

    /// A gateway bridge routes: turn on forwarding for the families it serves (node netns).
    private func enableForwarding(for families: [IPAddress.Family]) throws {
        for key in Set(families.map { $0 == .v4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding" }) {
            if (try? Sysctl.get(key)) != "1" {
                do { try Sysctl.set(key, "1") } catch {
                    throw PluginError(.failed, "enabling forwarding failed", details: error.description)
                }
            }
        }
    }
}
