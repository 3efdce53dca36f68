import CNI
import Glibc
import Logging
import NetTypes
import Testing
@testable import Dataplane
@testable import FlannelAgent
@testable import SubnetRegistry

/// A node whose own lease vanishes: the decision (pure) and what the node does with a real
/// directory registry and a dataplane that records what it is asked to program.
@Suite struct OwnLeaseTests {
    static let me = "192.168.5.1", other = "192.168.5.2", peerIP = "192.168.5.3"
    let own = registryTestLease("10.244.7.0/24", Self.me)
    let peer = registryTestLease("10.244.8.0/24", Self.peerIP)

    // ---------------------------------------------------------------- decision

    @Test func decisionForEveryStatusAndConflictState() {
        let x = IPAddress(Self.other)!, y = IPAddress("192.168.5.9")!
        #expect(OwnLeaseAction.decide(.held, conflictWith: nil) == OwnLeaseAction.none)
        #expect(OwnLeaseAction.decide(.missing, conflictWith: nil) == .reacquire)
        #expect(OwnLeaseAction.decide(.takenBy(x), conflictWith: nil) == .conflict(with: x, isNew: true))
        #expect(OwnLeaseAction.decide(.takenBy(x), conflictWith: x) == .conflict(with: x, isNew: false))
        #expect(OwnLeaseAction.decide(.takenBy(y), conflictWith: x) == .conflict(with: y, isNew: true))
        #expect(OwnLeaseAction.decide(.missing, conflictWith: x) == .reacquire)
        #expect(OwnLeaseAction.decide(.held, conflictWith: x) == .resolved)
    }

    // ---------------------------------------------------------------- node

    @Test func deletedLeaseIsReacquiredWithTheSameKeyAndValue() throws {
        let dir = RegistryTempDirectory("own-del")
        let registry = DirectoryRegistry(root: dir.path)
        let (metrics, recorder) = (AgentMetrics(), DataplaneRecorder())
        var node = try Self.node(own, registry: registry, recorder: recorder, metrics: metrics, peers: [peer])
        let path = dir.path + RegistryDefaults.prefix + "/subnets/" + own.key
        let before = try #require(try Posix.readFileIfPresent(path))
        #expect(recorder.programmed == [Self.peerPeer(peer)])

        unlink(path)
        #expect(try node.apply([.delete(storedKey: own.key)], registry: registry))
        #expect(try Posix.readFileIfPresent(path) == before)
        #expect(node.conflict == nil && node.conflictReason == nil)
        #expect(recorder.programmed == [Self.peerPeer(peer)])  // nothing withdrawn
        #expect(Self.exposition(metrics).contains("swiftcni_lease_reacquired_total 1"))

        // The same at a resync listing (expiry leaves no event in the directory registry).
        unlink(path)
        try node.reconcile(registry: registry)
        #expect(try Posix.readFileIfPresent(path) == before)
        #expect(Self.exposition(metrics).contains("swiftcni_lease_reacquired_total 2"))
    }

    @Test func takenSubnetIsAConflictNotAStealAndEndsWhenReleased() throws {
        let dir = RegistryTempDirectory("own-conflict")
        let registry = DirectoryRegistry(root: dir.path)
        let (metrics, recorder) = (AgentMetrics(), DataplaneRecorder())
        var node = try Self.node(own, registry: registry, recorder: recorder, metrics: metrics, peers: [peer])
        let stolen = registryTestLease("10.244.7.0/24", Self.other)
        try registry.deleteLease(subnet: own.subnet)
        #expect(try registry.createLease(stolen, ttl: 60))

        // The watch reports the delete and the other node's put in one batch.
        #expect(try node.apply([.delete(storedKey: own.key), .put(stolen)], registry: registry))
        #expect(node.conflict == IPAddress(Self.other))
        #expect(node.conflictReason?.contains("PublicIP \(Self.other)") == true)
        #expect(recorder.programmed.isEmpty)  // every peer entry withdrawn
        #expect(try registry.leases().first { $0.subnet == own.subnet }?.publicIP == IPAddress(Self.other))
        let text = Self.exposition(metrics)
        #expect(text.contains("swiftcni_lease_conflict 1.0") && text.contains(#"swiftcni_errors_total{kind="lease_conflict"} 1"#))

        // Resyncs and peer events keep it that way, and never write our lease over theirs.
        try node.reconcile(registry: registry)
        let newPeer = registryTestLease("10.244.9.0/24", "192.168.5.4")
        #expect(try registry.createLease(newPeer, ttl: 60))
        #expect(try node.apply([.put(newPeer)], registry: registry))
        #expect(recorder.programmed.isEmpty)
        #expect(try registry.leases().first { $0.subnet == own.subnet }?.publicIP == IPAddress(Self.other))
        #expect(Self.exposition(metrics).contains(#"swiftcni_errors_total{kind="lease_conflict"} 1"#))  // one conflict

        // The other node lets go: the subnet is ours again, then a full listing reprograms.
        try registry.deleteLease(subnet: own.subnet)
        #expect(try node.apply([.delete(storedKey: own.key)], registry: registry) == false)
        #expect(node.conflict == nil)
        #expect(try registry.leases().first { $0.subnet == own.subnet }?.publicIP == IPAddress(Self.me))
        try node.reconcile(registry: registry)
        #expect(Set(recorder.programmed) == [Self.peerPeer(peer), Self.peerPeer(newPeer)])
        #expect(Self.exposition(metrics).contains("swiftcni_lease_conflict 0.0"))
    }

    @Test func aTakenSubnetFoundAtResyncIsAConflict() throws {
        let dir = RegistryTempDirectory("own-resync")
        let registry = DirectoryRegistry(root: dir.path)
        let (metrics, recorder) = (AgentMetrics(), DataplaneRecorder())
        var node = try Self.node(own, registry: registry, recorder: recorder, metrics: metrics, peers: [peer])
        try registry.deleteLease(subnet: own.subnet)
        #expect(try registry.createLease(registryTestLease("10.244.7.0/24", Self.other), ttl: 60))
        try node.reconcile(registry: registry)
        #expect(node.conflict == IPAddress(Self.other) && recorder.programmed.isEmpty)
    }

    /// A renewal that fails leaves the lease due, so the loop's next pass (after its backoff,
    /// at most 5 s) tries again: long before expiry, which the margin puts an hour away.
    @Test func failedRenewalIsRetriedLongBeforeExpiry() throws {
        let dir = RegistryTempDirectory("own-renew")
        let registry = FlakyRenewals(DirectoryRegistry(root: dir.path), failures: 3)
        let metrics = AgentMetrics()
        var node = try Self.node(own, registry: registry, recorder: DataplaneRecorder(), metrics: metrics, peers: [])
        node.renewAt = registryNow() - 1
        let due = node.renewAt
        var delays: [Double] = []
        var backoff = Backoff()
        let raised = StopFlag()
        raised.raise()  // sleep returns at once; the delays are what the loop would wait
        while true {
            do {
                try node.renewIfDue(registry: registry, ttl: node.ttl, margin: node.renewMargin)
                break
            } catch {
                #expect(node.renewAt == due)  // still due: the next pass retries
                delays.append(backoff.delay)
                backoff.sleep(unless: raised)
            }
        }
        #expect(registry.attempts == 4)
        #expect(delays == [0.5, 1, 2])
        #expect(node.renewAt > registryNow() + Double(node.ttl - node.renewMargin) - 5)
        // Even a registry down for good is retried every 5 s, far inside the margin.
        for _ in 0..<10 { backoff.sleep(unless: raised) }
        #expect(backoff.delay == 5 && backoff.delay * 10 < Double(node.renewMargin))
    }

    // ---------------------------------------------------------------- support

    static func peerPeer(_ lease: SubnetLease) -> Peer { PeerSet.peer(lease) }

    static func exposition(_ m: AgentMetrics) -> String { String(decoding: m.exposition(), as: UTF8.self) }

    /// A node holding `own` in `registry` after its first reconcile, as setUp leaves it.
    static func node(_ own: SubnetLease, registry: any Registry, recorder: DataplaneRecorder, metrics: AgentMetrics,
                     peers: [SubnetLease]) throws -> AgentNode {
        try agentTestNode(own, registry: registry, peers: peers,
                          status: AgentStatus(metrics: metrics, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })),
                          recorder: recorder)
    }
}

/// What a `RecordingDataplane` was last asked to have programmed.
final class DataplaneRecorder {
    var programmed: [Peer] = []
    /// Peers (by subnet) the dataplane reports as not programmed (host-gw: not on-link).
    var unreachable: Set<IPPrefix> = []
}

/// A dataplane that programs nothing and remembers the peer set it was asked for.
struct RecordingDataplane: Dataplane {
    let recorder: DataplaneRecorder

    mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        let (left, programmed) = (peers.filter { recorder.unreachable.contains($0.subnet) },
                                  peers.filter { !recorder.unreachable.contains($0.subnet) })
        recorder.programmed = programmed
        var report = ReconcileReport()
        report.programmedPeers = programmed.map(\.id)
        report.unreachablePeers = left.map { UnreachablePeer(peer: $0, reason: "not on-link (test)") }
        return report
    }

    mutating func apply(_ changes: [PeerChange]) -> ReconcileReport {
        var report = ReconcileReport()
        for change in changes {
            recorder.programmed.removeAll { $0 == change.old }
            if let new = change.new { recorder.programmed.append(new); report.programmedPeers.append(new.id) }
        }
        return report
    }
}

/// A directory registry whose first `failures` renewals fail (etcd down, say).
final class FlakyRenewals: Registry {
    let inner: DirectoryRegistry
    var failures: Int
    var attempts = 0
    init(_ inner: DirectoryRegistry, failures: Int) { self.inner = inner; self.failures = failures }
    var location: String { inner.location }
    func networkConfig() throws -> FlannelNetworkConfig { try inner.networkConfig() }
    func storeNetworkConfig(_ json: String) throws { try inner.storeNetworkConfig(json) }
    func leases() throws -> [SubnetLease] { try inner.leases() }
    func takeSkippedEntries() -> [RejectedLease] { inner.takeSkippedEntries() }
    func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool { try inner.createLease(lease, ttl: ttl) }
    func renewLease(_ lease: SubnetLease, ttl: Int) throws {
        attempts += 1
        if failures > 0 {
            failures -= 1
            throw RegistryError(.unreachable, "registry down (test)")
        }
        try inner.renewLease(lease, ttl: ttl)
    }
    func deleteLease(subnet: IPPrefix) throws { try inner.deleteLease(subnet: subnet) }
    func waitForChanges(timeout: Double) throws -> RegistryChanges { try inner.waitForChanges(timeout: timeout) }
}
