import CNI
import NetTypes

/// flannel's `CheckNetworkConfig`: resolve the defaults that depend on the network size and
/// reject configs that would leave no usable subnets, with messages that say what to change.
extension FlannelNetworkConfig {
    mutating func resolveAndValidate(what: String) throws(PluginError) {
        guard enableIPv4 || enableIPv6 else {
            throw PluginError(.invalidConfig, "\(what): EnableIPv4 and EnableIPv6 are both false; enable at least one")
        }
        if enableIPv4 {
            guard let network else {
                throw PluginError(.invalidConfig,
                    "\(what): Network is missing; set the IPv4 cluster network (e.g. \"10.244.0.0/16\") or EnableIPv4 false")
            }
            var rule = FamilyRules(family: .v4, networkName: "Network", lengthName: "SubnetLen",
                                   minName: "SubnetMin", maxName: "SubnetMax", what: what)
            (subnetLen, subnetMin, subnetMax) = try rule.resolve(network: network, length: subnetLen,
                                                                 min: subnetMin, max: subnetMax)
        }
        if enableIPv6 {
            guard let ipv6Network else {
                throw PluginError(.invalidConfig,
                    "\(what): EnableIPv6 is true but IPv6Network is missing; set it (e.g. \"fd00:10:244::/56\")")
            }
            var rule = FamilyRules(family: .v6, networkName: "IPv6Network", lengthName: "IPv6SubnetLen",
                                   minName: "IPv6SubnetMin", maxName: "IPv6SubnetMax", what: what)
            (ipv6SubnetLen, ipv6SubnetMin, ipv6SubnetMax) = try rule.resolve(
                network: ipv6Network, length: ipv6SubnetLen, min: ipv6SubnetMin, max: ipv6SubnetMax)
        }
    }
}

/// The per-family rule set; IPv6 is IPv4's with wider numbers (126/124/64 for 30/28/24).
private struct FamilyRules {
    let family: IPAddress.Family
    let networkName: String
    let lengthName: String
    let minName: String
    let maxName: String
    let what: String

    var bits: Int { family == .v4 ? 32 : 128 }
    /// The longest subnet that still fits a tunnel and a bridge address (/30, /126).
    var longestSubnet: Int { bits - 2 }
    /// The default per-node subnet (/24, /64) when the network is large enough.
    var defaultSubnet: Int { family == .v4 ? 24 : 64 }

    mutating func resolve(network: IPPrefix, length: Int, min: IPAddress?, max: IPAddress?)
        throws(PluginError) -> (Int, IPAddress, IPAddress)
    {
        var length = length
        if length > 0 {
            guard length <= longestSubnet else {
                throw fail("\(lengthName) \(length) is too long: each node needs at least a /\(longestSubnet) "
                           + "(room for the network, a gateway and a container)")
            }
            guard length >= network.length + 2 else {
                throw fail("\(lengthName) \(length) must be at least \(networkName) prefix + 2 (/\(network.length + 2)) "
                           + "so that \(network) holds at least four subnets")
            }
        } else {
            // flannel: /24 (/64) per node when the network holds four of them, else a quarter.
            guard network.length <= longestSubnet - 2 else {
                throw fail("\(networkName) \(network) is too small; the minimum useful prefix is /\(longestSubnet - 2)")
            }
            length = network.length <= defaultSubnet - 2 ? defaultSubnet : network.length + 2
        }
        // The first subnet is skipped: its first address would be the network's own address.
        let first = SubnetMath.next(network.address, length: length)!
        let last = IPPrefix(address: network.lastAddress, length: length)!.network.address
        let min = min ?? first
        let max = max ?? last
        for (name, value) in [(minName, min), (maxName, max)] {
            guard network.contains(value) else {
                throw fail("\(name) \(value) is not inside \(networkName) \(network)")
            }
            guard SubnetMath.isAligned(value, length: length) else {
                throw fail("\(name) \(value) is not on a /\(length) boundary (\(lengthName))")
            }
        }
        guard min <= max else {
            throw fail("\(minName) \(min) is above \(maxName) \(max)")
        }
        return (length, min, max)
    }

    func fail(_ message: String) -> PluginError {
        PluginError(.invalidConfig, "\(what): \(message)")
    }
}
