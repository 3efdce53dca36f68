import CNI
import NetTypes
import SubnetRegistry

/// How the registry's network config differs from the one the node started with. The node
/// applies a config once, at set-up, as flanneld does: a change is reported (a warning that
/// names what changed and says a restart applies it, `swiftcni_network_config_changed 1`),
/// not acted on; a config whose network no longer holds the node's subnet makes the node not
/// ready, because new nodes then route that subnet nowhere.
enum NetworkConfigDrift {
    /// "Field old -> new" for every field that differs, in the config's own order; empty
    /// when the configs match.
    static func changes(from start: FlannelNetworkConfig, to now: FlannelNetworkConfig) -> [String] {
        var out: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T, _ text: (T) -> String) {
            if a != b { out.append("\(name) \(text(a)) -> \(text(b))") }
        }
        func text(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "none" }
        compare("EnableIPv4", start.enableIPv4, now.enableIPv4, \.description)
        compare("Network", start.network, now.network, text)
        compare("SubnetLen", start.subnetLen, now.subnetLen, \.description)
        compare("SubnetMin", start.subnetMin, now.subnetMin, text)
        compare("SubnetMax", start.subnetMax, now.subnetMax, text)
        compare("EnableIPv6", start.enableIPv6, now.enableIPv6, \.description)
        compare("IPv6Network", start.ipv6Network, now.ipv6Network, text)
        compare("IPv6SubnetLen", start.ipv6SubnetLen, now.ipv6SubnetLen, \.description)
        compare("IPv6SubnetMin", start.ipv6SubnetMin, now.ipv6SubnetMin, text)
        compare("IPv6SubnetMax", start.ipv6SubnetMax, now.ipv6SubnetMax, text)
        let (a, b) = (start.backend, now.backend)
        compare("Backend.Type", a.type, b.type, \.description)
        compare("Backend.VNI", a.vni, b.vni, \.description)
        compare("Backend.Port", a.port, b.port, \.description)
        compare("Backend.DirectRouting", a.directRouting, b.directRouting, \.description)
        compare("Backend.MTU", a.mtu, b.mtu, text)
        if out.isEmpty && a.raw != b.raw { out.append("Backend (options this agent does not use)") }
        return out
    }

    /// Why the node is not ready under `config`: its subnet (or, dual stack, its IPv6 subnet)
    /// is not inside the config's network any more. Nil when it still is.
    static func leaseOutside(_ lease: SubnetLease, config: FlannelNetworkConfig) -> String? {
        let network = config.enableIPv4 ? config.network : nil
        if !holds(network, lease.subnet) {
            return "the registry's network config no longer contains this node's subnet \(lease.subnet) "
                + "(Network is now \(network?.description ?? "none")); restart the node to lease a subnet in it"
        }
        if let ipv6Subnet = lease.ipv6Subnet {
            let ipv6Network = config.enableIPv6 ? config.ipv6Network : nil
            if !holds(ipv6Network, ipv6Subnet) {
                return "the registry's network config no longer contains this node's IPv6 subnet \(ipv6Subnet) "
                    + "(IPv6Network is now \(ipv6Network?.description ?? "none")); restart the node to lease a subnet in it"
            }
        }
        return nil
    }

    private static func holds(_ network: IPPrefix?, _ subnet: IPPrefix) -> Bool {
        guard let network, network.family == subnet.family else { return false }
        return subnet.length >= network.length && network.contains(subnet.address)
    }
}

extension AgentNode {
    /// Reads the registry's network config again and reports how it differs from the one
    /// the node started with (NetworkConfigDrift), at each full listing: one read more per
    /// listing, which costs more itself. Each distinct difference is logged once; a config
    /// gone from the registry is reported ("deleted"), the node staying ready (its network
    /// is as it was; a restart would wait for a config). Registry trouble propagates.
    mutating func followNetworkConfig(registry: any Registry) throws {
        guard let start = startConfig else { return }
        var drift: String?
        var problem: String?
        do {
            let now = try registry.networkConfig()
            let changes = NetworkConfigDrift.changes(from: start, to: now)
            drift = changes.isEmpty ? nil : changes.joined(separator: ", ")
            problem = NetworkConfigDrift.leaseOutside(lease, config: now)
        } catch let error as RegistryError where error.kind == .notFound {
            drift = "deleted"
        } catch let error as PluginError {
            drift = "unreadable: \(error.message)"
        }
        // Readiness first, then the log, then the metric (AgentStatus).
        if let problem, problem != configProblem {
            status.notReady(problem, kind: nil, registryUp: true)
        }
        configProblem = problem
        guard drift != configDrift else { return }
        configDrift = drift
        if let drift {
            logger.warning("network config in the registry changed since this node started; a restart applies it (flanneld, too, reads it once)",
                           metadata: ["changes": "\(drift)", "registry": "\(registry.location)"])
        } else {
            logger.info("network config in the registry matches the one this node started with again")
        }
        metrics.recordNetworkConfigChanged(drift != nil)
    }
}
