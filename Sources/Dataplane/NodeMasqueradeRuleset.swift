import CNI
import SubnetRegistry
import NetTypes

/// The node agent's masquerade table, flannel's four POSTROUTING rules in nftables form.
///
/// flannel (iptables, pkg/trafficmngr/iptables `MasqRules`) installs, with N = the cluster
/// network and S = this node's subnet:
///
///     -s N -d N RETURN                    pod → pod anywhere in the cluster: never NAT
///     -s N ! -d 224.0.0.0/4 MASQUERADE    pod → outside (not multicast): NAT
///     ! -s N -d S RETURN                  outside → a pod on this node: keep the client's address
///     ! -s N -d N MASQUERADE              host/outside → a pod on another node: NAT, so the
///                                         reply comes back through the overlay
///
/// We replicate all four, in that order, with `fully-random` port selection as flannel uses
/// when the kernel has it (it avoids SNAT port collisions between nodes). Not replicated:
/// flannel's newer `meta mark 0x4000 return` for kube-proxy-marked packets (we ship no
/// kube-proxy integration). Our table is separate from the bridge plugin's `inet swift_cni`,
/// which masquerades per container when the agent does not.
enum NodeMasqueradeRuleset {
    static let name = "swift_cni_fabric"
    static let chain = "postrouting"

    /// "ip" or "ip6": the table's family follows the networks'.
    static func family(_ family: IPAddress.Family) -> String { family == .v4 ? "ip" : "ip6" }

    static func table(_ family: IPAddress.Family) -> String { "\(Self.family(family)) \(name)" }

    /// The rules for one family; both prefixes must be of that family.
    static func rules(clusterNetwork: IPPrefix, nodeSubnet: IPPrefix) -> [String] {
        let ip = family(clusterNetwork.family)
        let multicast = clusterNetwork.family == .v4 ? "224.0.0.0/4" : "ff00::/8"
        let network = clusterNetwork.network
        let subnet = nodeSubnet.network
        return [
            "\(ip) saddr \(network) \(ip) daddr \(network) return comment \"inside the cluster network\"",
            "\(ip) saddr \(network) \(ip) daddr != \(multicast) masquerade fully-random comment \"pods to outside\"",
            "\(ip) saddr != \(network) \(ip) daddr \(subnet) return comment \"outside to this node's pods\"",
            "\(ip) saddr != \(network) \(ip) daddr \(network) masquerade fully-random comment \"host to other nodes' pods\"",
        ]
    }

    /// One transaction that replaces whatever the table holds (`add` first so the `delete`
    /// never fails on a fresh node): repeating it leaves exactly one copy of each rule.
    static func installScript(clusterNetwork: IPPrefix, nodeSubnet: IPPrefix) -> String {
        let table = table(clusterNetwork.family)
        let lines = [
            "add table \(table)",
            "delete table \(table)",
            "add table \(table)",
            "add chain \(table) \(chain) { type nat hook postrouting priority srcnat; policy accept; }",
        ] + rules(clusterNetwork: clusterNetwork, nodeSubnet: nodeSubnet).map { "add rule \(table) \(chain) \($0)" }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Removes the tables of both families; a table that is not there is no error.
    static let removeScript = [IPAddress.Family.v4, .v6].map(removeFamilyScript).joined()

    /// Removes the table of `family` (`add` first: a table that is not there is no error).
    static func removeFamilyScript(_ family: IPAddress.Family) -> String {
        "add table \(table(family))\ndelete table \(table(family))\n"
    }
}
