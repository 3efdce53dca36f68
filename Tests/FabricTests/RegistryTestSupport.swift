import CNI
import NetTypes
import Glibc
import Testing
import TestSupport
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// A per-test directory under /tmp, removed (recursively) when the test ends.
final class RegistryTempDirectory {
    let path: String

    init(_ label: String) {
        var template = Array("/tmp/rgt-\(getpid())-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { registryRemoveTree(path) }
}

/// `rm -rf` without spawning a process.
func registryRemoveTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        for name in (try? RegistryFiles.list(path)) ?? [] { registryRemoveTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// A deterministic generator for allocator choices (SplitMix64).
struct RegistrySeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let registryVXLANConfig = #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#

func registryTestLease(_ subnet: String, _ publicIP: String, expiration: Double? = nil) -> SubnetLease {
    SubnetLease(subnet: IPPrefix(subnet)!, publicIP: IPAddress(publicIP)!, backendType: "vxlan",
                backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:01")!),
                expiration: expiration)
}

/// Hands a single-thread object to exactly one other thread (the test waits for it).
final class RegistryHandOff<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Eight agents start at once against one registry holding exactly eight free subnets:
/// every one gets a lease and no two share a subnet; a ninth finds the space exhausted.
/// `open` gives each agent its own registry instance, as separate processes would have.
func registryEightAgentsRace(_ open: @escaping @Sendable () throws -> any Registry) throws {
    try open().storeNetworkConfig(
        #"{"Network":"10.9.0.0/20","SubnetMin":"10.9.1.0","SubnetMax":"10.9.8.0","Backend":{"Type":"host-gw"}}"#)
    @Sendable func allocator(_ registry: any Registry, _ host: Int) throws -> SubnetAllocator {
        SubnetAllocator(config: try registry.networkConfig(), publicIP: IPAddress("192.168.7.\(host)")!,
                        backendType: "host-gw", backendData: nil)
    }
    let results = Slots<Result<IPPrefix, any Error>>(8)
    runOnThreads(8) { i in
        results[i] = Result {
            let registry = try open()
            return try allocator(registry, i + 1).acquire(from: registry, previous: nil, ttl: 60).subnet
        }
    }
    let subnets = try results.all.map { try #require($0).get() }
    #expect(Set(subnets).count == 8)
    let registry = try open()
    #expect(try registry.leases().count == 8)
    #expect(throws: PluginError.self) { _ = try allocator(registry, 99).acquire(from: registry, previous: nil, ttl: 60) }
}

/// `watcher` (already listed) must report a lease another agent creates 0.2 s later within
/// `limit` seconds, as a put of that lease.
func registryWatchSeesCreate(_ watcher: any Registry, limit: Double,
                             other: @escaping @Sendable () throws -> any Registry) throws {
    let started = monotonicNow()
    let seen = Slots<(RegistryChanges?, Double)>(1)
    let handOff = RegistryHandOff(watcher)
    runOnThreads(2) { i in
        if i == 0 {
            seen[0] = (try? handOff.value.waitForChanges(timeout: 10), monotonicNow() - started)
        } else {
            usleep(200_000)
            _ = try? other().createLease(registryTestLease("10.244.5.0/24", "192.168.1.5"), ttl: 3)
        }
    }
    let (changes, after) = try #require(seen[0])
    #expect(changes?.putSubnets == [IPPrefix("10.244.5.0/24")!], "\(String(describing: changes))")
    #expect(after < limit, "change seen after \(after)s")
}

extension RegistryChanges {
    /// The subnets of the puts, in order; nil when this is not a batch of events.
    var putSubnets: [IPPrefix]? {
        guard case .events(let events) = self else { return nil }
        return events.compactMap { if case .put(let lease) = $0 { lease.subnet } else { nil } }
    }

    var needsRelist: Bool {
        if case .relistNeeded = self { return true }
        return false
    }
}

/// A directory registry that test doubles wrap, overriding what they stage.
class ForwardingRegistry: Registry {
    let inner: DirectoryRegistry
    init(_ inner: DirectoryRegistry) { self.inner = inner }
    var location: String { inner.location }
    func networkConfig() throws -> FlannelNetworkConfig { try inner.networkConfig() }
    func storeNetworkConfig(_ json: String) throws { try inner.storeNetworkConfig(json) }
    func leases() throws -> [SubnetLease] { try inner.leases() }
    func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool { try inner.createLease(lease, ttl: ttl) }
    func renewLease(_ lease: SubnetLease, ttl: Int) throws { try inner.renewLease(lease, ttl: ttl) }
    func deleteLease(subnet: IPPrefix) throws { try inner.deleteLease(subnet: subnet) }
    func deleteLease(key: String) throws { try inner.deleteLease(key: key) }
    func waitForChanges(timeout: Double) throws -> RegistryChanges { try inner.waitForChanges(timeout: timeout) }
}
