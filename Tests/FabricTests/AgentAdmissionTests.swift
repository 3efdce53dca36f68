import CNI
import Glibc
import Logging
import NetTypes
import Testing
@testable import Dataplane
@testable import FlannelAgent
@testable import SubnetRegistry

/// Issue 18 point 1, the agent's side: every listing and every event batch goes through the
/// lease admission judge. Hostile leases are never programmed, never disturb valid peers or
/// readiness, are logged and counted once per (stored key, reason), and an alias of the
/// node's own subnet cannot fake a conflict.
@Suite struct AgentAdmissionTests {
    static let me = "192.168.5.1"
    let own = registryTestLease("10.244.7.0/24", Self.me)
    let peer = registryTestLease("10.244.8.0/24", "192.168.5.3")

    /// A lease file as a hostile writer plants it: any name, unexpired for an hour.
    static func plant(_ lease: SubnetLease, as name: String, in dir: RegistryTempDirectory) throws {
        let subnets = dir.path + RegistryDefaults.prefix + "/subnets"
        try Posix.makeDirectories(subnets)
        let path = subnets + "/" + name
        try Posix.writeAtomically(Array(LeaseJSON.encode(lease).utf8), to: path)
        let future = timespec(tv_sec: time(nil) + 3600, tv_nsec: 0)
        let times = [future, future]
        #expect(utimensat(AT_FDCWD, path, times, 0) == 0)
    }

    func rejectionLines(_ log: CapturedLog) -> [String] { log.lines.filter { $0.contains("lease rejected") } }

    static func counted(_ node: AgentNode, _ reason: String) -> String? {
        String(decoding: node.metrics.exposition(), as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(#"swiftcni_leases_rejected_total{reason="\#(reason)"}"#) }.map { String($0.split(separator: " ")[1]) }
    }

    @Test func hostileLeasesInAListingAreRejectedOnceAndNeverProgrammed() throws {
        let dir = RegistryTempDirectory("admit-list")
        let registry = DirectoryRegistry(root: dir.path)
        let (log, recorder) = (CapturedLog(), DataplaneRecorder())
        var node = try agentTestNode(own, registry: registry, peers: [peer], status: AgentStatus(logger: log.logger), recorder: recorder)
        #expect(recorder.programmed == [PeerSet.peer(peer)])

        // Half the internet, an alias of our own subnet (another node's PublicIP), an alias of
        // the peer's subnet pointing elsewhere, a loopback tunnel endpoint.
        #expect(try registry.createLease(registryTestLease("128.0.0.0/1", "192.168.5.66"), ttl: 3600))
        try Self.plant(registryTestLease("10.244.7.0/24", "192.168.5.66"), as: "10.244.7.0-024", in: dir)
        try Self.plant(registryTestLease("10.244.8.0/24", "192.168.5.66"), as: "10.244.008.0-24", in: dir)
        #expect(try registry.createLease(registryTestLease("10.244.9.0/24", "127.0.0.1"), ttl: 3600))
        for _ in 0..<3 { try node.reconcile(registry: registry) }

        #expect(node.conflict == nil && node.conflictReason == nil)  // an alias cannot fake a conflict
        #expect(recorder.programmed == [PeerSet.peer(peer)])       // the valid peer, untouched
        let lines = rejectionLines(log)
        #expect(lines.count == 4, "\(lines)")
        for key in ["128.0.0.0-1", "10.244.7.0-024", "10.244.008.0-24", "10.244.9.0-24"] {
            #expect(lines.filter { $0.contains("key=\(key) ") }.count == 1, "\(key): \(lines)")
        }
        #expect(Self.counted(node, "outside_network") == "1")
        #expect(Self.counted(node, "non_canonical_key") == "2")
        #expect(Self.counted(node, "bad_public_ip") == "1")
        #expect(Self.counted(node, "bad_vtep_mac") == "0")
    }

    @Test func hostileLeasesInEventsAreRejectedAndValidOnesProgrammed() throws {
        let dir = RegistryTempDirectory("admit-events")
        let registry = DirectoryRegistry(root: dir.path)
        let (log, recorder) = (CapturedLog(), DataplaneRecorder())
        var node = try agentTestNode(own, registry: registry, peers: [peer], status: AgentStatus(logger: log.logger), recorder: recorder)
        let newPeer = registryTestLease("10.244.10.0/24", "192.168.5.4")
        var alias = registryTestLease("10.244.7.0/24", "192.168.5.66")
        alias.storedKey = "10.244.7.0-024"
        var takeover = registryTestLease("10.244.8.0/24", "192.168.5.66")
        takeover.storedKey = "evil/dir/10.244.8.0-24"
        let events: [RegistryEvent] = [.put(registryTestLease("128.0.0.0/1", "192.168.5.66")), .put(alias), .put(takeover),
                                       .put(newPeer)]
        #expect(try node.apply(events, registry: registry))
        #expect(try node.apply([.put(alias)], registry: registry))  // the same again: no second report
        #expect(node.conflict == nil)
        #expect(Set(recorder.programmed) == [PeerSet.peer(peer), PeerSet.peer(newPeer)])
        #expect(rejectionLines(log).count == 3, "\(rejectionLines(log))")
        #expect(Self.counted(node, "non_canonical_key") == "2" && Self.counted(node, "outside_network") == "1")
    }

    /// Entries the registry cannot read (garbage, a FIFO named like a lease) are reported the
    /// same way: once, counted as unreadable; the listing and the valid peer go on.
    @Test func unreadableEntriesAreReportedOnce() throws {
        let dir = RegistryTempDirectory("admit-unreadable")
        let registry = DirectoryRegistry(root: dir.path)
        let (log, recorder) = (CapturedLog(), DataplaneRecorder())
        var node = try agentTestNode(own, registry: registry, peers: [peer], status: AgentStatus(logger: log.logger), recorder: recorder)
        let subnets = dir.path + RegistryDefaults.prefix + "/subnets/"
        try Posix.writeAtomically(Array("not a lease".utf8), to: subnets + "10.244.11.0-24")
        #expect(mkfifo(subnets + "10.244.12.0-24", 0o644) == 0)
        for _ in 0..<3 { try node.reconcile(registry: registry) }
        let lines = rejectionLines(log)
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains("reason=unreadable") }, "\(lines)")
        #expect(Self.counted(node, "unreadable") == "2")
        #expect(recorder.programmed == [PeerSet.peer(peer)] && node.conflict == nil)
    }

    /// The loop with hostile leases around: ready, and the valid peer programmed.
    @Test func rejectedLeasesLeaveTheNodeReady() async throws {
        let dir = RegistryTempDirectory("admit-ready")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        let recorder = DataplaneRecorder()
        let node = try agentTestNode(own, registry: registry, peers: [peer], recorder: recorder)
        #expect(try registry.createLease(registryTestLease("128.0.0.0/1", "192.168.5.66"), ttl: 3600))
        try Self.plant(registryTestLease("10.244.7.0/24", "192.168.5.66"), as: "10.244.7.0-024", in: dir)
        let loop = RunningLoop(resync: 0.2, node: node, registry: registry)
        #expect(await eventually(within: 10) {
            Self.counted(node, "non_canonical_key") == "1"  // the loop publishes through the node's status
        })
        #expect(await eventually(within: 10) { loop.readyz.code == 200 }, "\(loop.readyz)")
        try await loop.finish()
        #expect(recorder.programmed == [PeerSet.peer(peer)])
    }
}
