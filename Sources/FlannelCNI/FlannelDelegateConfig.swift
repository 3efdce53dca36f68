import CNI
import NetTypes

/// Builds the delegate (bridge) network config from the CNI face's config and subnet.env,
/// following flannel's CNI plugin: `delegate` keys win, defaults fill the rest, and the
/// `ipam` object is merged with host-local ranges and routes for the node subnet.
enum FlannelDelegateConfig {
    static func build(from config: NetworkConfig, subnetEnv env: SubnetEnv) throws -> JSONValue {
        var d = config.raw["delegate"]?.objectValue ?? [:]
        if let given = config.raw["delegate"], given != .null, given.objectValue == nil {
            throw PluginError(.invalidConfig, "\"delegate\" must be an object")
        }
        d["name"] = .string(config.name)
        d["cniVersion"] = .string(config.version.rawValue)
        if d["type"] == nil { d["type"] = .string("bridge") }
        // The agent masquerades when FLANNEL_IPMASQ is true; then the bridge must not.
        if d["ipMasq"] == nil { d["ipMasq"] = .bool(!env.ipMasq) }
        if d["mtu"] == nil, env.mtu > 0 { d["mtu"] = .int(env.mtu) }
        if d["type"]?.stringValue == "bridge" {
            if d["isGateway"] == nil { d["isGateway"] = .bool(true) }
            if d["hairpinMode"] == nil { d["hairpinMode"] = .bool(true) }
        }
        if d["dns"] == nil, let dns = config.raw["dns"] { d["dns"] = dns }
        for key in ["runtimeConfig", "args"] where d[key] == nil {
            if let v = config.raw[key] { d[key] = v }
        }
        d["ipam"] = .object(try ipam(config.raw["ipam"], env: env))
        return .object(d)
    }

    static func ipam(_ given: JSONValue?, env: SubnetEnv) throws -> [String: JSONValue] {
        if let given, given != .null, given.objectValue == nil {
            throw PluginError(.invalidConfig, "\"ipam\" must be an object")
        }
        var ipam = given?.objectValue ?? [:]
        if ipam["type"] == nil { ipam["type"] = .string("host-local") }
        var ranges: [JSONValue] = []
        var routes = ipam["routes"]?.arrayValue ?? []
        if let subnet = env.subnet {
            ranges.append(.array([.object(["subnet": .string(subnet.network.description)])]))
        }
        if let network = env.network { routes.append(.object(["dst": .string(network.network.description)])) }
        if let subnet6 = env.ipv6Subnet {
            ranges.append(.array([.object(["subnet": .string(subnet6.network.description)])]))
        }
        if let network6 = env.ipv6Network { routes.append(.object(["dst": .string(network6.network.description)])) }
        guard !ranges.isEmpty else {
            throw PluginError(.invalidConfig, "subnet.env has neither FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET")
        }
        ipam["ranges"] = .array(ranges)
        if !routes.isEmpty { ipam["routes"] = .array(routes) }
        return ipam
    }
}
