import Logging
import Testing
@testable import FlannelAgent
@testable import SubnetRegistry

/// Issue 18 point 3: a main loop that stops completing passes (stuck in a system call) is
/// reported on /readyz, never ready.
@Suite struct LoopHeartbeatTests {
    @Test func aLoopIsStuckOnlyAfterItsLimit() {
        let beat = LoopHeartbeat(phase: .steadyState, lastPass: 100, limit: 25)
        #expect(beat.stall(now: 100) == nil)
        #expect(beat.stall(now: 125) == nil)
        #expect(beat.stall(now: 131.7) == "main loop has not completed a pass for 31 s (limit 25 s)")
        var setUp = beat
        setUp.phase = .setUp
        #expect(setUp.stall(now: 131.7) == "main loop has not completed a pass for 31 s (limit 25 s); stuck in set-up")
    }

    @Test func theLimitCoversTheLongestLegitimatePass() throws {
        // 2 x --resync-interval + 5 s ...
        #expect(LoopHeartbeat.limit(resyncInterval: 10, registryCallBound: 0) == 25)
        // ... but never less than the wait (1 s) and the longest backoff (5 s) of one pass,
        #expect(LoopHeartbeat.limit(resyncInterval: 0.2, registryCallBound: 0) == 6)
        // and with etcd two calls at their timeouts: 1 endpoint x 2 s connect + 10 s request + 1.
        let etcd = try EtcdRegistry(endpoints: ["http://127.0.0.1:1"])
        #expect(LoopHeartbeat.callBound(of: etcd) == 13)
        #expect(LoopHeartbeat.limit(resyncInterval: 10, registryCallBound: 13) == 2 * 13 + 1 + 5)
        let dir = RegistryTempDirectory("beat-limit")
        #expect(LoopHeartbeat.callBound(of: DirectoryRegistry(root: dir.path)) == 0)
    }

    @Test func aStallIsLoggedOnceAndTurnsTheReadyMetricOff() {
        let log = CapturedLog()
        let status = AgentStatus(logger: log.logger)
        status.markReady(subnet: .init("10.244.1.0/24")!)
        status.beat(.steadyState, limit: 6, now: 1000)
        #expect(status.stall(now: 1005) == nil)
        #expect(status.stall(now: 1007) != nil && status.stall(now: 1008) != nil)
        #expect(log.lines.filter { $0.contains("main loop has not completed a pass") }.count == 1)
        let text = String(decoding: status.metrics.exposition(), as: UTF8.self)
        #expect(text.contains("\nswiftcni_ready 0.0\n"))
        status.beat(.steadyState, limit: 6, now: 1008)
        #expect(status.stall(now: 1009) == nil)
    }

    /// A listing that never returns (a FIFO named like a lease): /readyz goes 503 naming the
    /// stall within the limit (6 s at a 0.2 s resync interval), and 200 again once it returns.
    @Test func aLoopBlockedInTheRegistryIsNotReady() async throws {
        let dir = RegistryTempDirectory("beat-block")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        let node = try agentTestNode(registryTestLease("10.244.7.0/24", "192.168.5.1"), registry: registry)
        let loop = RunningLoop(resync: 0.2, node: node, registry: registry)
        #expect(await eventually(within: 10) { loop.readyz.code == 200 }, "\(loop.readyz)")
        registry.script.withLock { $0.blockListings = true }
        #expect(await eventually(within: 10) { registry.script.withLock { $0.blockedListings } > 0 })
        #expect(await eventually(within: 10) { loop.readyz.code == 503 }, "\(loop.readyz)")
        #expect(loop.readyz.body.hasPrefix("not ready: main loop has not completed a pass for "), "\(loop.readyz)")
        #expect(loop.readyz.body.contains("(limit 6 s)"), "\(loop.readyz)")
        registry.script.withLock { $0.blockListings = false }
        #expect(await eventually(within: 10) { loop.readyz.code == 200 }, "\(loop.readyz)")
        try await loop.finish()
    }
}
