import CNI
import Glibc
import Logging
import NetTypes
import Synchronization
import Testing
@testable import Dataplane
@testable import FlannelAgent
@testable import SubnetRegistry

/// Issue 18 point 8: a state change is published readiness first, then the log line, then
/// the metric. A metric observer checks, at the moment each metric is set, that /readyz
/// and the log already show what the metric says (integration/lease-loss.sh polled
/// `swiftcni_lease_conflict 1` and found neither the error line nor a 503).
@Suite struct AgentPublishOrderTests {
    static let me = "192.168.6.1", other = "192.168.6.2"
    let own = registryTestLease("10.244.7.0/24", Self.me)
    let peer = registryTestLease("10.244.8.0/24", "192.168.6.3")

    @Test func conflictReacquisitionAndTheirEndArePublishedInOrder() throws {
        let probe = PublishOrderProbe()
        let dir = RegistryTempDirectory("order-conflict")
        let registry = DirectoryRegistry(root: dir.path)
        var node = try probe.node(own, registry: registry, peers: [peer])

        // Another node takes the subnet (the watch shows the delete and its put together).
        let stolen = registryTestLease("10.244.7.0/24", Self.other)
        try registry.deleteLease(subnet: own.subnet)
        #expect(try registry.createLease(stolen, ttl: 60))
        _ = try node.apply([.delete(storedKey: own.key), .put(stolen)], registry: registry)
        // It lets go: re-acquired, the conflict is over.
        try registry.deleteLease(subnet: own.subnet)
        _ = try node.apply([.delete(storedKey: own.key)], registry: registry)
        // Deleted once more: re-acquired outside a conflict.
        try registry.deleteLease(subnet: own.subnet)
        _ = try node.apply([.delete(storedKey: own.key)], registry: registry)

        #expect(probe.seen("swiftcni_lease_conflict", 1) && probe.seen("swiftcni_lease_conflict", 0))
        #expect(probe.seen("swiftcni_errors_total", 1, kind: "lease_conflict"))
        #expect(probe.seen("swiftcni_lease_reacquired_total", 1))
        #expect(probe.violations.isEmpty, "\(probe.violations)")
    }

    @Test func readinessTransitionsArePublishedInOrder() throws {
        let probe = PublishOrderProbe()
        let subnet = IPPrefix("10.244.7.0/24")!
        probe.status.notReady("registry directory /x: unreachable (test)", kind: "registry")
        probe.status.markReady(subnet: subnet)
        probe.status.notReady("some setup problem", kind: "setup")
        probe.status.markReady(subnet: subnet)
        #expect(probe.seen("swiftcni_ready", 0) && probe.seen("swiftcni_ready", 1))
        #expect(probe.seen("swiftcni_registry_up", 0) && probe.seen("swiftcni_registry_up", 1))
        #expect(probe.seen("swiftcni_errors_total", 1, kind: "registry"))
        #expect(probe.violations.isEmpty, "\(probe.violations)")
    }

    @Test func unreachablePeersAreOnReadyzAndLoggedBeforeTheyAreCounted() throws {
        let probe = PublishOrderProbe()
        let dir = RegistryTempDirectory("order-unreach")
        let registry = DirectoryRegistry(root: dir.path)
        var node = try probe.node(own, registry: registry, peers: [peer])
        probe.recorder.unreachable = [peer.subnet]
        try node.reconcile(registry: registry)
        #expect(probe.seen("swiftcni_peers_unreachable", 1))
        #expect(probe.violations.isEmpty, "\(probe.violations)")
    }
}

/// An agent status whose metrics check, as each one is set, that readiness and the log
/// already say the same; what did not is collected in `violations`.
final class PublishOrderProbe: @unchecked Sendable {
    let log = CapturedLog()
    let recorder = DataplaneRecorder()
    private let state = Mutex<(samples: [String], violations: [String], attached: Bool)>(([], [], false))
    private(set) var status: AgentStatus!

    init() {
        let metrics = AgentMetrics(observer: { [unowned(unsafe) self] name, labels, value in
            self.check(name, labels, value)
        })
        status = AgentStatus(metrics: metrics, logger: log.logger)
        state.withLock { $0.attached = true }
    }

    var violations: [String] { state.withLock { $0.violations } }

    func seen(_ name: String, _ value: Double, kind: String? = nil) -> Bool {
        state.withLock { $0.samples.contains(Self.sample(name, kind, value)) }
    }

    private static func sample(_ name: String, _ kind: String?, _ value: Double) -> String {
        "\(name){\(kind ?? "")} \(value)"
    }

    private func check(_ name: String, _ labels: [(String, String)], _ value: Double) {
        guard state.withLock({ $0.attached }) else { return }  // the initial zeros
        let kind = labels.first { $0.0 == "kind" }?.1
        let r = status.readiness
        let lines = log.lines
        func logged(_ text: String) -> Bool { lines.contains { $0.contains(text) } }
        var problems: [String] = []
        switch (name, kind, value) {
        case ("swiftcni_lease_conflict", _, 1), ("swiftcni_errors_total", "lease_conflict", _):
            if r.ready || !r.reason.contains("leased to another node") { problems.append("/readyz: \(r.ready) \(r.reason)") }
            if !logged("own subnet is leased to another node") { problems.append("no error line") }
        case ("swiftcni_lease_conflict", _, 0):
            if r.ready || r.reason.contains("leased to another node") { problems.append("/readyz: \(r.ready) \(r.reason)") }
            if !logged("subnet conflict over") { problems.append("no conflict-over line") }
        case ("swiftcni_lease_reacquired_total", _, _):
            if !logged("own lease vanished from the registry; re-acquired") { problems.append("no re-acquisition line") }
        case ("swiftcni_ready", _, 1):
            if !r.ready { problems.append("/readyz not ready: \(r.reason)") }
            if !logged("msg=ready") { problems.append("no ready line") }
        case ("swiftcni_ready", _, 0):
            if r.ready { problems.append("/readyz ready") }
            if !logged(r.reason) && !logged(LogfmtLogHandler.quote(r.reason)) { problems.append("reason \(r.reason) not logged") }
        case ("swiftcni_registry_up", _, 0), ("swiftcni_errors_total", "registry", _):
            if r.ready || !r.reason.hasPrefix("registry") { problems.append("/readyz: \(r.ready) \(r.reason)") }
        case ("swiftcni_registry_up", _, 1):
            if r.reason.hasPrefix("registry") { problems.append("/readyz still: \(r.reason)") }
        case ("swiftcni_peers_unreachable", _, _),
             ("swiftcni_peers", _, _) where labels.contains(where: { $0.0 == "state" && $0.1 == "unreachable" }):
            if Double(r.unreachable.count) != value { problems.append("/readyz lists \(r.unreachable.count) unreachable peers") }
            for u in r.unreachable where !logged("peer not programmed") || !logged(LogfmtLogHandler.quote(u)) {
                problems.append("unreachable \(u) not logged")
            }
        default:
            break
        }
        state.withLock { s in
            s.samples.append(Self.sample(name, kind, value))
            s.violations += problems.map { "\(name){\(kind ?? "")}=\(value): \($0)" }
        }
    }

    /// A node holding `own` after its first reconcile, publishing through this probe.
    func node(_ own: SubnetLease, registry: any Registry, peers: [SubnetLease]) throws -> AgentNode {
        try agentTestNode(own, registry: registry, peers: peers, status: status, recorder: recorder)
    }
}

/// The agent's log lines (logfmt, as the daemon writes them), kept for a test to read.
final class CapturedLog: Sendable {
    private let captured = Mutex<[String]>([])

    var lines: [String] { captured.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in LogfmtLogHandler(logLevel: .debug) { [self] in append($0) } }
    }

    func append(_ line: String) { captured.withLock { $0.append(line) } }
}
