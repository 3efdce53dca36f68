import CNI
import Glibc
import Logging
import NetNS
import NetTypes
import Synchronization
import Testing
@testable import Dataplane
@testable import FlannelAgent
@testable import SubnetRegistry

/// A directory registry whose listings a test can make block (as `open()` on a planted
/// FIFO did) or fail (as one unreadable entry made every listing fail), and whose renewals
/// it counts (and can make fail).
final class ScriptedRegistry: Registry, @unchecked Sendable {
    struct Script {
        var blockListings = false
        var failListings = false
        var failRenewals = false
        /// networkConfig() says not found, as etcd does for a deleted config key.
        var configDeleted = false
        var blockedListings = 0
        var renewals = 0
        /// Monotonic time of each renewal call.
        var renewalTimes: [Double] = []
    }

    let inner: DirectoryRegistry
    let script = Mutex(Script())

    init(_ inner: DirectoryRegistry) { self.inner = inner }

    var location: String { inner.location }
    func networkConfig() throws -> FlannelNetworkConfig {
        if script.withLock({ $0.configDeleted }) { throw RegistryError(.notFound, "network config not found (test)") }
        return try inner.networkConfig()
    }
    func storeNetworkConfig(_ json: String) throws { try inner.storeNetworkConfig(json) }
    func leases() throws -> [SubnetLease] {
        if script.withLock({ $0.blockListings }) {
            script.withLock { $0.blockedListings += 1 }
            while script.withLock({ $0.blockListings }) { usleep(10_000) }
        }
        if script.withLock({ $0.failListings }) { throw RegistryError(.io, "listing failed (test)") }
        return try inner.leases()
    }
    func takeSkippedEntries() -> [RejectedLease] { inner.takeSkippedEntries() }
    func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool { try inner.createLease(lease, ttl: ttl) }
    func renewLease(_ lease: SubnetLease, ttl: Int) throws {
        let fail = script.withLock { s -> Bool in
            s.renewals += 1
            s.renewalTimes.append(monotonicSeconds())
            return s.failRenewals
        }
        if fail { throw RegistryError(.unreachable, "renewal failed (test)") }
        try inner.renewLease(lease, ttl: ttl)
    }
    func deleteLease(subnet: IPPrefix) throws { try inner.deleteLease(subnet: subnet) }
    func waitForChanges(timeout: Double) throws -> RegistryChanges { try inner.waitForChanges(timeout: timeout) }
}

/// An agent (resync interval `resync`) whose steady state runs on a thread of its own
/// (started at once, not through the cooperative pool, which other tests may keep busy)
/// over `node` and `registry` until `finish()`.
final class RunningLoop: @unchecked Sendable {
    let agent: Agent
    let registry: ScriptedRegistry
    /// Raised when the loop has returned.
    private let done = StopFlag()
    private var thread: pthread_t?

    init(resync: Double, node: AgentNode, registry: ScriptedRegistry) {
        var options = AgentOptions()
        options.resyncInterval = resync
        agent = Agent(options: options, status: node.status)
        self.registry = registry
        let handed = HandedToLoop(node)
        thread = try? PlainThread.start { [agent, done] in
            var node = handed.value
            agent.steadyState(&node, registry: registry)
            done.raise()
        }.get()
        #expect(thread != nil, "cannot start the loop thread")
    }

    /// What /readyz answers now: status code and body.
    var readyz: (code: UInt, body: String) {
        let r = agent.healthResponse(path: "/readyz")
        return (r.status.code, String(decoding: r.body, as: UTF8.self))
    }

    /// Unblocks the registry, stops the loop and waits for its thread to end.
    func finish() async throws {
        registry.script.withLock { $0.blockListings = false }
        agent.stop.raise()
        #expect(await eventually(within: 10) { done.isRaised }, "the loop does not stop")
        if let thread { pthread_join(thread, nil) }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = monotonicSeconds() + seconds
    while monotonicSeconds() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// A node holding `own` in `registry` (networks 10.244.0.0/16 with /24s, vxlan) after its
/// first reconcile, as setUp leaves it; its status logs nowhere unless given one.
func agentTestNode(_ own: SubnetLease, registry: any Registry, peers: [SubnetLease] = [], status: AgentStatus? = nil,
                   recorder: DataplaneRecorder = DataplaneRecorder()) throws -> AgentNode {
    #expect(try registry.createLease(own, ttl: 24 * 3600))
    for p in peers { #expect(try registry.createLease(p, ttl: 24 * 3600)) }
    let status = status ?? AgentStatus(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let admission = LeaseAdmission(network: IPPrefix("10.244.0.0/16")!, subnetLength: 24, backendType: "vxlan", own: own)
    var node = AgentNode(lease: own, kind: .vxlan, dataplane: RecordingDataplane(recorder: recorder),
                         ownSubnet: own.subnet, renewAt: registryNow() + 3600, peers: PeerSet(ownSubnet: own.subnet),
                         admitted: AdmittedLeases(admission: admission), status: status, ttl: 24 * 3600, renewMargin: 3600)
    try node.reconcile(registry: registry)
    return node
}
