import CNI
import Glibc
import NetTypes
import Testing
@testable import FlannelAgent
@testable import SubnetRegistry

/// Issue 18 point 7: the registry's network config changed under a running node.
@Suite struct NetworkConfigDriftTests {
    static let base = #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#
    let own = registryTestLease("10.244.7.0/24", "192.168.5.1")

    static func config(_ json: String) throws -> FlannelNetworkConfig { try FlannelNetworkConfig.parse(Array(json.utf8)) }

    @Test func changesNameEachField() throws {
        let start = try Self.config(Self.base)
        #expect(NetworkConfigDrift.changes(from: start, to: start).isEmpty)
        #expect(NetworkConfigDrift.changes(from: start, to: try Self.config(#"{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}"#))
                == ["Backend.Type vxlan -> host-gw"])
        #expect(NetworkConfigDrift.changes(from: start, to: try Self.config(
            #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":2,"Port":4789,"MTU":1400,"DirectRouting":true}}"#))
                == ["Backend.VNI 1 -> 2", "Backend.Port 8472 -> 4789", "Backend.DirectRouting false -> true", "Backend.MTU none -> 1400"])
        let moved = NetworkConfigDrift.changes(from: start, to: try Self.config(#"{"Network":"10.245.0.0/16","SubnetLen":25,"Backend":{"Type":"vxlan"}}"#))
        #expect(moved.first == "Network 10.244.0.0/16 -> 10.245.0.0/16" && moved.contains("SubnetLen 24 -> 25"), "\(moved)")
        let v6 = NetworkConfigDrift.changes(from: start, to: try Self.config(
            #"{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd00:10:244::/56","Backend":{"Type":"vxlan"}}"#))
        #expect(v6.contains("EnableIPv6 false -> true") && v6.contains("IPv6Network none -> fd00:10:244::/56"), "\(v6)")
    }

    @Test func aNetworkThatNoLongerHoldsTheSubnetIsAReason() throws {
        #expect(NetworkConfigDrift.leaseOutside(own, config: try Self.config(Self.base)) == nil)
        let shrunk = try Self.config(#"{"Network":"10.244.0.0/22","Backend":{"Type":"vxlan"}}"#)
        #expect(NetworkConfigDrift.leaseOutside(own, config: shrunk)?.contains("no longer contains this node's subnet 10.244.7.0/24 (Network is now 10.244.0.0/22)") == true)
        #expect(NetworkConfigDrift.leaseOutside(own, config: try Self.config(#"{"Network":"10.245.0.0/16","Backend":{"Type":"vxlan"}}"#)) != nil)
        var dual = own
        dual.ipv6Subnet = IPPrefix("fd00:10:244:7::/64")!
        let v4only = try Self.config(Self.base)
        #expect(NetworkConfigDrift.leaseOutside(dual, config: v4only)?.contains("IPv6 subnet fd00:10:244:7::/64") == true)
    }

    @Test func aChangeIsWarnedOnceAndCountedUntilItIsUndone() throws {
        let dir = RegistryTempDirectory("drift-node")
        let registry = DirectoryRegistry(root: dir.path)
        try registry.storeNetworkConfig(Self.base)
        let log = CapturedLog()
        var node = try agentTestNode(own, registry: registry, status: AgentStatus(logger: log.logger))
        node.startConfig = try registry.networkConfig()
        func warnings() -> [String] { log.lines.filter { $0.contains("network config in the registry changed") } }
        func metric() -> Bool { String(decoding: node.metrics.exposition(), as: UTF8.self).contains("\nswiftcni_network_config_changed 1.0\n") }

        try node.followNetworkConfig(registry: registry)
        #expect(warnings().isEmpty && !metric())

        try registry.storeNetworkConfig(#"{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}"#)
        try node.followNetworkConfig(registry: registry)
        try node.followNetworkConfig(registry: registry)
        #expect(warnings().count == 1 && warnings()[0].contains("Backend.Type vxlan -> host-gw") && warnings()[0].contains("a restart applies it"))
        #expect(metric() && node.configProblem == nil)

        // Network shrunk: a second, different change; the node is not ready, /readyz says why.
        try registry.storeNetworkConfig(#"{"Network":"10.244.0.0/22","Backend":{"Type":"vxlan"}}"#)
        try node.followNetworkConfig(registry: registry)
        #expect(warnings().count == 2 && warnings()[1].contains("Network 10.244.0.0/16 -> 10.244.0.0/22"))
        #expect(node.configProblem?.contains("no longer contains") == true)
        #expect(!node.status.readiness.ready && node.status.readiness.reason.contains("no longer contains this node's subnet"))

        try registry.storeNetworkConfig(Self.base)
        try node.followNetworkConfig(registry: registry)
        #expect(!metric() && node.configProblem == nil && warnings().count == 2)
        #expect(log.lines.contains { $0.contains("matches the one this node started with again") })
    }

    @Test func aDeletedConfigIsReportedAndTheNodeStaysReady() async throws {
        let dir = RegistryTempDirectory("drift-deleted")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        try registry.storeNetworkConfig(Self.base)
        let log = CapturedLog()
        var node = try agentTestNode(own, registry: registry, status: AgentStatus(logger: log.logger))
        node.startConfig = try registry.networkConfig()
        registry.script.withLock { $0.configDeleted = true }
        try node.followNetworkConfig(registry: registry)
        #expect(log.lines.contains { $0.contains("network config in the registry changed") && $0.contains("changes=deleted") })
        #expect(node.configProblem == nil)
        #expect(String(decoding: node.metrics.exposition(), as: UTF8.self).contains("\nswiftcni_network_config_changed 1.0\n"))
    }

    /// The loop re-reads the config at each full listing: /readyz goes 503 when the network
    /// no longer holds the node's subnet, and 200 again when it does.
    @Test func theRunningLoopFollowsTheConfig() async throws {
        let dir = RegistryTempDirectory("drift-loop")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        try registry.storeNetworkConfig(Self.base)
        var node = try agentTestNode(own, registry: registry)
        node.startConfig = try registry.networkConfig()
        let loop = RunningLoop(resync: 0.2, node: node, registry: registry)
        #expect(await eventually(within: 10) { loop.readyz.code == 200 }, "\(loop.readyz)")
        try registry.storeNetworkConfig(#"{"Network":"10.245.0.0/16","Backend":{"Type":"vxlan"}}"#)
        #expect(await eventually(within: 10) { loop.readyz.code == 503 }, "\(loop.readyz)")
        #expect(loop.readyz.body.contains("no longer contains this node's subnet 10.244.7.0/24 (Network is now 10.245.0.0/16)"))
        try registry.storeNetworkConfig(Self.base)
        #expect(await eventually(within: 10) { loop.readyz.code == 200 }, "\(loop.readyz)")
        try await loop.finish()
    }
}
