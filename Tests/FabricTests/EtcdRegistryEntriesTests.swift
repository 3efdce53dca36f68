import CNI
import Glibc
import NetTypes
import Testing
@testable import SubnetRegistry

/// What a real etcd hands the judge: every key under subnets/ under its literal name, with
/// its create revision as its age, and the entries that are no leases reported.
@Suite(.enabled(if: EtcdFixture.available, "needs root and /usr/bin/etcd (Debian etcd-server)"))
struct EtcdRegistryEntriesTests {
    static func put(_ registry: EtcdRegistry, _ name: String, _ value: String) throws {
        _ = try registry.call("/v3/kv/put", ["key": .string(EtcdJSON.base64(registry.subnetsPrefix + name)),
                                             "value": .string(EtcdJSON.base64(value))])
    }

    @Test func aliasesAndJunkReachTheJudgeWithTheirAges() throws {
        try EtcdFixture.withNamespace("entries") {
            let registry = try EtcdRegistry(endpoints: [EtcdFixture.clientURL])
            let valid = registryTestLease("10.244.1.0/24", "192.168.1.2")
            #expect(try registry.createLease(valid, ttl: 60))
            let value = LeaseJSON.encode(registryTestLease("10.244.7.0/24", "192.168.1.66"))
            let aliases = ["evil/dir/10.244.7.0-24", "../../10.244.8.0-24", "10.244.9.0-024"]
            for alias in aliases { try Self.put(registry, alias, value) }
            try Self.put(registry, "10.244.3.0-24", "not json")
            try Self.put(registry, "README", "hello")

            let listed = try registry.leases()
            #expect(Set(listed.map(\.storedKey)) == Set([valid.key] + aliases))
            // Ages in creation order: the valid lease first, then the aliases as written.
            let byKey = Dictionary(uniqueKeysWithValues: listed.map { ($0.storedKey, $0.creationRank ?? 0) })
            let ranks = ([valid.key] + aliases).map { byKey[$0] ?? 0 }
            #expect(ranks.allSatisfy { $0 > 0 } && ranks == ranks.sorted() && Set(ranks).count == ranks.count)
            #expect(Set(registry.takeSkippedEntries().map(\.storedKey)) == ["10.244.3.0-24", "README"])
            #expect(registry.takeSkippedEntries().isEmpty)

            // The same through the watch.
            try Self.put(registry, "evil/10.244.5.0-24", value)
            try Self.put(registry, "10.244.6.0-24", "{")
            var events: [RegistryEvent] = []
            let deadline = monotonicNow() + 10
            while events.count < 2 && monotonicNow() < deadline {
                if case .events(let batch) = try registry.waitForChanges(timeout: 1) { events += batch }
            }
            guard case .put(let alias)? = events.first else { Issue.record("\(events)"); return }
            #expect(alias.storedKey == "evil/10.244.5.0-24")
            #expect((alias.creationRank ?? 0) > ranks.last!)
            #expect(events.dropFirst().first == .delete(storedKey: "10.244.6.0-24"))
            #expect(registry.takeSkippedEntries().map(\.storedKey) == ["10.244.6.0-24"])
        }
    }
}
