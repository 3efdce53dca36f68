import Attach
import CNI
import Glibc
import NetTypes
import Testing
@testable import Nftables
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

struct NodeMasqueradeScriptTests {
    @Test func removingOneFamilyTouchesOnlyItsTable() {
        #expect(NodeMasqueradeRuleset.removeFamilyScript(.v6) == "add table ip6 swift_cni_fabric\ndelete table ip6 swift_cni_fabric\n")
        #expect(NodeMasqueradeRuleset.removeScript == NodeMasqueradeRuleset.removeFamilyScript(.v4) + NodeMasqueradeRuleset.removeFamilyScript(.v6))
    }

    @Test func replicatesFlannelsFourRulesInOneReplacingTransaction() {
        let script = NodeMasqueradeRuleset.installScript(clusterNetwork: IPPrefix("10.244.0.0/16")!,
                                                         nodeSubnet: IPPrefix("10.244.1.0/24")!)
        let lines = script.split(separator: "\n")
        #expect(lines.prefix(4) == [
            "add table ip swift_cni_fabric",
            "delete table ip swift_cni_fabric",
            "add table ip swift_cni_fabric",
            "add chain ip swift_cni_fabric postrouting { type nat hook postrouting priority srcnat; policy accept; }",
        ])
        #expect(lines.dropFirst(4).map { $0.split(separator: " comment ")[0] } == [
            "add rule ip swift_cni_fabric postrouting ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return",
            "add rule ip swift_cni_fabric postrouting ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
            "add rule ip swift_cni_fabric postrouting ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 return",
            "add rule ip swift_cni_fabric postrouting ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random",
        ])
    }
}

/// The ruleset in a throwaway namespace's nftables (never the machine's own).
@Suite(.enabled(if: DataplaneTestbed.isAvailable && DataplaneTestbed.nft != nil, "needs root, ip and nft"))
struct NodeMasqueradeNetnsTests {
    @Test func installIsIdempotentAndRemoveCleansUp() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        let masquerade = NodeMasquerade(nft: NftCommand(argv: [DataplaneTestbed.ip, "netns", "exec", node.name, DataplaneTestbed.nft!]))
        try masquerade.remove()  // nothing there yet: still success
        #expect(try !masquerade.isInstalled())

        try masquerade.install(clusterNetwork: IPPrefix("10.244.0.0/16")!, nodeSubnet: node.subnet)
        try masquerade.install(clusterNetwork: IPPrefix("10.244.0.0/16")!, nodeSubnet: node.subnet)
        #expect(try masquerade.isInstalled())
        let listing = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "table", "ip", "swift_cni_fabric"])
        #expect(listing.split(separator: "\n").filter { $0.contains("masquerade") }.count == 2, "\(listing)")
        #expect(listing.split(separator: "\n").filter { $0.contains("return") }.count == 2, "\(listing)")
        #expect(listing.contains("ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 return"))

        // A new subnet (lease changed) replaces the rules instead of adding to them.
        try masquerade.install(clusterNetwork: IPPrefix("10.244.0.0/16")!, nodeSubnet: IPPrefix("10.244.9.0/24")!)
        let replaced = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "table", "ip", "swift_cni_fabric"])
        #expect(!replaced.contains("10.244.1.0/24") && replaced.contains("10.244.9.0/24"))

        try masquerade.remove()
        #expect(try !masquerade.isInstalled())
        try masquerade.remove()
    }

    @Test func removingOneFamilyKeepsTheOther() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        let masquerade = NodeMasquerade(nft: NftCommand(argv: [DataplaneTestbed.ip, "netns", "exec", node.name, DataplaneTestbed.nft!]))
        try masquerade.remove(family: .v6)  // nothing there yet: still success
        try masquerade.install(clusterNetwork: IPPrefix("10.244.0.0/16")!, nodeSubnet: node.subnet)
        try masquerade.install(clusterNetwork: IPPrefix("fc00::/48")!, nodeSubnet: IPPrefix("fc00:0:0:1::/64")!)
        #expect(try masquerade.isInstalled(family: .v4) && masquerade.isInstalled(family: .v6))

        try masquerade.remove(family: .v6)
        #expect(try masquerade.isInstalled(family: .v4) && !masquerade.isInstalled(family: .v6))
        let listing = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "table", "ip", "swift_cni_fabric"])
        #expect(listing.split(separator: "\n").filter { $0.contains("masquerade") }.count == 2, "IPv4's rules intact: \(listing)")
        try masquerade.remove(family: .v6)

        try masquerade.install(clusterNetwork: IPPrefix("fc00::/48")!, nodeSubnet: IPPrefix("fc00:0:0:1::/64")!)
        try masquerade.remove(family: .v4)
        #expect(try !masquerade.isInstalled(family: .v4) && masquerade.isInstalled(family: .v6))
        try masquerade.remove()
        #expect(try !masquerade.isInstalled(family: .v4) && !masquerade.isInstalled(family: .v6))
    }
}
