import CNI
import Glibc
import NetTypes
import Testing
@testable import Dataplane

/// A failing tool never stops the node: the outcome names the command and its stderr.
struct ForwardRulesFailureTests {
    @Test func aFailingListingIsReportedWithCommandAndStderrAndNothingIsWritten() {
        let failing = ["/bin/sh", "-c", "echo 'iptables-save: lock held' >&2; exit 4", "sh"]
        let rules = ForwardRules(tools: ForwardRulesTools(iptables: ["/bin/false"], iptablesSave: failing, nft: nil))
        let outcome = rules.sync(clusterNetwork: IPPrefix("10.244.0.0/16")!, enabled: true)
        #expect(outcome.changes.isEmpty)
        #expect(outcome.errors.count == 1)
        let text = outcome.errors.first?.description ?? ""
        #expect(text.contains("echo 'iptables-save: lock held'") && text.contains("-t filter"), "\(text)")
        #expect(text.hasSuffix("failed (exit status 4): iptables-save: lock held"), "\(text)")
    }

    @Test func aMissingProgramIsAnErrorNotACrash() {
        let rules = ForwardRules(tools: ForwardRulesTools(iptables: ["/nonexistent/iptables"],
                                                          iptablesSave: ["/nonexistent/iptables-save"], nft: ["/nonexistent/nft"]))
        let outcome = rules.sync(clusterNetwork: IPPrefix("10.244.0.0/16")!, enabled: true)
        #expect(outcome.errors.map(\.command) == ["/nonexistent/iptables-save -t filter", "/nonexistent/nft list chains"])
        #expect(outcome.errors.allSatisfy { $0.status == "could not start" })
    }

    @Test func theKeeperChecksOnlyWhenDueAndADisabledOneOnlyAfterAFailure() {
        let failing = ForwardRulesTools(iptables: ["/bin/false"], iptablesSave: ["/bin/false"], nft: nil)
        var keeper = ForwardRulesKeeper(clusterNetwork: IPPrefix("10.244.0.0/16")!, enabled: true, interval: 5,
                                        rules: ForwardRules(tools: failing))
        #expect(keeper.sync(now: 100).errors.count == 1)
        #expect(keeper.syncIfDue(now: 104) == nil)
        #expect(keeper.syncIfDue(now: 105) != nil)
        var off = ForwardRulesKeeper(clusterNetwork: IPPrefix("10.244.0.0/16")!, enabled: false, interval: 5,
                                     rules: ForwardRules(tools: failing))
        _ = off.sync(now: 100)
        #expect(off.syncIfDue(now: 106) != nil, "a failed removal is retried")
        var quiet = ForwardRulesKeeper(clusterNetwork: IPPrefix("10.244.0.0/16")!, enabled: false, interval: 5,
                                       rules: ForwardRules(tools: ForwardRulesTools(iptables: nil, iptablesSave: nil, nft: nil)))
        _ = quiet.sync(now: 100)
        #expect(quiet.syncIfDue(now: 200) == nil, "a node that opted out is left alone")
    }
}

/// The rules in a throwaway namespace's firewall (never the machine's own).
@Suite(.enabled(if: DataplaneTestbed.isAvailable && DataplaneTestbed.nft != nil
                    && access("/usr/sbin/iptables", X_OK) == 0 && access("/usr/sbin/iptables-save", X_OK) == 0,
                "needs root, ip, nft and iptables"))
struct ForwardRulesNetnsTests {
    static let network = IPPrefix("10.244.0.0/16")!

    func tools(_ node: DataplaneTestbed.Node) -> ForwardRulesTools {
        let prefix = [DataplaneTestbed.ip, "netns", "exec", node.name]
        return ForwardRulesTools(iptables: prefix + ["/usr/sbin/iptables"], iptablesSave: prefix + ["/usr/sbin/iptables-save"],
                                 nft: prefix + [DataplaneTestbed.nft!])
    }

    func ruleset(_ testbed: DataplaneTestbed, _ node: DataplaneTestbed.Node) throws -> String {
        try testbed.inside(node, [DataplaneTestbed.nft!, "list", "ruleset"])
    }

    func iptablesRules(_ testbed: DataplaneTestbed, _ node: DataplaneTestbed.Node) throws -> [Substring] {
        try testbed.inside(node, ["/usr/sbin/iptables-save", "-t", "filter"]).split(separator: "\n").filter { $0.hasPrefix("-A FORWARD") }
    }

    @Test func nothingDroppingCreatesNothing() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        let outcome = ForwardRules(tools: tools(node)).sync(clusterNetwork: Self.network, enabled: true)
        #expect(outcome.errors.isEmpty, "\(outcome.errors)")
        #expect(outcome.changes.isEmpty)
        #expect(try ruleset(testbed, node).isEmpty, "no table may appear")
    }

    @Test func iptablesDropGetsFlanneldsRulesOnceRepairedAndRemoved() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        _ = try testbed.inside(node, ["/usr/sbin/iptables", "-w", "5", "-P", "FORWARD", "DROP"])
        _ = try testbed.inside(node, ["/usr/sbin/iptables", "-w", "5", "-A", "FORWARD", "-s", "192.0.2.0/24", "-j", "ACCEPT"])
        let rules = ForwardRules(tools: tools(node))

        let first = rules.sync(clusterNetwork: Self.network, enabled: true)
        #expect(first.errors.isEmpty, "\(first.errors)")
        #expect(first.changes.count == 2)
        #expect(try iptablesRules(testbed, node) == [
            "-A FORWARD -s 192.0.2.0/24 -j ACCEPT",
            "-A FORWARD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
            "-A FORWARD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
        ])
        #expect(rules.sync(clusterNetwork: Self.network, enabled: true).changes.isEmpty, "idempotent")
        let listing = try testbed.inside(node, ["/usr/sbin/iptables", "-w", "5", "-L", "FORWARD", "-n"])
        #expect(!listing.contains("incompatible"), "\(listing)")

        _ = try testbed.inside(node, ["/usr/sbin/iptables", "-w", "5", "-D", "FORWARD"] + ForwardRule.pair("10.244.0.0/16")[1].iptablesSpec)
        let repaired = rules.sync(clusterNetwork: Self.network, enabled: true)
        #expect(repaired.changes == ["added accept to 10.244.0.0/16 to iptables filter FORWARD"])
        #expect(try iptablesRules(testbed, node).count == 3)

        let removed = rules.sync(clusterNetwork: Self.network, enabled: false)
        #expect(removed.errors.isEmpty && removed.changes.count == 2)
        #expect(try iptablesRules(testbed, node) == ["-A FORWARD -s 192.0.2.0/24 -j ACCEPT"], "the operator's rule stays")
        #expect(try testbed.inside(node, ["/usr/sbin/iptables-save", "-t", "filter"]).contains(":FORWARD DROP"))
    }

    @Test func aNativeDropChainGetsTaggedRulesRemovedByComment() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        _ = try testbed.inside(node, [DataplaneTestbed.nft!, "-f", "-"], stdin: """
            table inet filter {
              chain forward {
                type filter hook forward priority filter; policy drop;
                ip saddr 192.0.2.0/24 accept comment "operator's"
              }
            }
            """)
        let rules = ForwardRules(tools: tools(node))
        let first = rules.sync(clusterNetwork: Self.network, enabled: true)
        #expect(first.errors.isEmpty, "\(first.errors)")
        #expect(first.changes == ["added accept from 10.244.0.0/16 to nft inet filter forward",
                                  "added accept to 10.244.0.0/16 to nft inet filter forward"])
        #expect(rules.sync(clusterNetwork: Self.network, enabled: true).changes.isEmpty, "idempotent")
        let text = try ruleset(testbed, node)
        #expect(text.contains("ip saddr 10.244.0.0/16 accept comment \"swift-cni forward\""), "\(text)")
        #expect(text.contains("ip daddr 10.244.0.0/16 accept comment \"swift-cni forward\""), "\(text)")
        #expect(!text.contains("table ip filter"), "no iptables table created")

        let removed = rules.sync(clusterNetwork: Self.network, enabled: false)
        #expect(removed.errors.isEmpty && removed.changes.count == 2, "\(removed.errors)")
        let after = try ruleset(testbed, node)
        #expect(!after.contains("swift-cni forward") && after.contains("operator's") && after.contains("policy drop"), "\(after)")
    }
}
