import Glibc
import NetTypes
import Testing
@testable import Dataplane

/// Dual-stack forward rules in a throwaway namespace's firewall (never the machine's own):
/// ip6tables and inet/ip6 native chains next to the IPv4 ones.
@Suite(.enabled(if: DataplaneTestbed.isAvailable && DataplaneTestbed.nft != nil
                    && access("/usr/sbin/iptables", X_OK) == 0 && access("/usr/sbin/ip6tables", X_OK) == 0
                    && access("/usr/sbin/iptables-save", X_OK) == 0 && access("/usr/sbin/ip6tables-save", X_OK) == 0,
                "needs root, ip, nft, iptables and ip6tables"))
struct ForwardRulesIPv6NetnsTests {
    static let networks = [IPPrefix("10.244.0.0/16")!, IPPrefix("fc00::/48")!]

    func tools(_ node: DataplaneTestbed.Node) -> ForwardRulesTools {
        let prefix = [DataplaneTestbed.ip, "netns", "exec", node.name]
        return ForwardRulesTools(iptables: prefix + ["/usr/sbin/iptables"], iptablesSave: prefix + ["/usr/sbin/iptables-save"],
                                 nft: prefix + [DataplaneTestbed.nft!], ip6tables: prefix + ["/usr/sbin/ip6tables"],
                                 ip6tablesSave: prefix + ["/usr/sbin/ip6tables-save"])
    }

    func forwardRules(_ testbed: DataplaneTestbed, _ node: DataplaneTestbed.Node, _ save: String) throws -> [Substring] {
        try testbed.inside(node, ["/usr/sbin/\(save)", "-t", "filter"]).split(separator: "\n").filter { $0.hasPrefix("-A FORWARD") }
    }

    @Test func ip6tablesDropGetsFlanneldsRulesRepairedAndRemovedWithoutTouchingIPv4() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        _ = try testbed.inside(node, ["/usr/sbin/ip6tables", "-w", "5", "-P", "FORWARD", "DROP"])
        _ = try testbed.inside(node, ["/usr/sbin/ip6tables", "-w", "5", "-A", "FORWARD", "-s", "2001:db8::/32", "-j", "ACCEPT"])
        let rules = ForwardRules(tools: tools(node))

        let first = rules.sync(clusterNetworks: Self.networks, enabled: true)
        #expect(first.errors.isEmpty, "\(first.errors)")
        #expect(first.changes == ["added accept from fc00::/48 to ip6tables filter FORWARD",
                                  "added accept to fc00::/48 to ip6tables filter FORWARD"])
        #expect(try forwardRules(testbed, node, "ip6tables-save") == [
            "-A FORWARD -s 2001:db8::/32 -j ACCEPT",
            "-A FORWARD -s fc00::/48 -m comment --comment \"flanneld forward\" -j ACCEPT",
            "-A FORWARD -d fc00::/48 -m comment --comment \"flanneld forward\" -j ACCEPT",
        ])
        #expect(try forwardRules(testbed, node, "iptables-save").isEmpty, "IPv4's chain drops nothing: left alone")
        #expect(rules.sync(clusterNetworks: Self.networks, enabled: true).changes.isEmpty, "idempotent")
        let listing = try testbed.inside(node, ["/usr/sbin/ip6tables", "-w", "5", "-L", "FORWARD", "-n"])
        #expect(!listing.contains("incompatible"), "\(listing)")

        _ = try testbed.inside(node, ["/usr/sbin/ip6tables", "-w", "5", "-D", "FORWARD"] + ForwardRule.pair("fc00::/48")[0].iptablesSpec)
        #expect(rules.sync(clusterNetworks: Self.networks, enabled: true).changes
            == ["added accept from fc00::/48 to ip6tables filter FORWARD"])

        // Back to IPv4-only: the IPv6 pair goes at the first (sweeping) sync, the operator's rule stays.
        var keeper = ForwardRulesKeeper(clusterNetwork: Self.networks[0], enabled: true, interval: 5, rules: rules)
        let swept = keeper.sync(now: 0)
        #expect(swept.errors.isEmpty && swept.changes.count == 2, "\(swept.changes) \(swept.errors)")
        #expect(try forwardRules(testbed, node, "ip6tables-save") == ["-A FORWARD -s 2001:db8::/32 -j ACCEPT"])
        #expect(try testbed.inside(node, ["/usr/sbin/ip6tables-save", "-t", "filter"]).contains(":FORWARD DROP"))
    }

    @Test func anInetDropChainGetsBothFamiliesAndLosesOnlyTheOneRemoved() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        _ = try testbed.inside(node, [DataplaneTestbed.nft!, "-f", "-"], stdin: """
            table inet filter {
              chain forward {
                type filter hook forward priority filter; policy drop;
                ip6 saddr 2001:db8::/32 accept comment "operator's"
              }
            }
            table ip6 six {
              chain f {
                type filter hook forward priority filter; policy drop;
              }
            }
            """)
        let rules = ForwardRules(tools: tools(node))
        let first = rules.sync(clusterNetworks: Self.networks, enabled: true)
        #expect(first.errors.isEmpty, "\(first.errors)")
        #expect(first.changes == ["added accept from 10.244.0.0/16 to nft inet filter forward",
                                  "added accept to 10.244.0.0/16 to nft inet filter forward",
                                  "added accept from fc00::/48 to nft inet filter forward",
                                  "added accept to fc00::/48 to nft inet filter forward",
                                  "added accept from fc00::/48 to nft ip6 six f",
                                  "added accept to fc00::/48 to nft ip6 six f"], "in the order nft lists the chains")
        #expect(rules.sync(clusterNetworks: Self.networks, enabled: true).changes.isEmpty, "idempotent, no churn in inet")
        let text = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "ruleset"])
        #expect(text.contains("ip6 daddr fc00::/48 accept comment \"swift-cni forward\""), "\(text)")
        #expect(!text.contains("table ip6 filter") && !text.contains("table ip filter"), "no iptables table created")

        let v4Only = rules.sync(clusterNetworks: [Self.networks[0]], enabled: true, removeOtherFamilies: true)
        #expect(v4Only.errors.isEmpty && v4Only.changes.count == 4, "\(v4Only.changes) \(v4Only.errors)")
        let after = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "ruleset"])
        #expect(!after.contains("fc00::/48") && after.contains("ip saddr 10.244.0.0/16 accept comment \"swift-cni forward\""), "\(after)")

        let off = rules.sync(clusterNetworks: Self.networks, enabled: false)
        #expect(off.errors.isEmpty && off.changes.count == 2, "\(off.changes) \(off.errors)")
        let end = try testbed.inside(node, [DataplaneTestbed.nft!, "list", "ruleset"])
        #expect(!end.contains("swift-cni forward") && end.contains("operator's"), "\(end)")
    }
}
