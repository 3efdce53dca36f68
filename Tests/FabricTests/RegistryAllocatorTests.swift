import CNI
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct RegistryAllocatorTests {
    let config = try! FlannelNetworkConfig.parse(Array(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#.utf8))
    let me = IPAddress("192.168.1.2")!

    func allocator(_ config: FlannelNetworkConfig? = nil) -> SubnetAllocator {
        SubnetAllocator(config: config ?? self.config, publicIP: me, backendType: "vxlan",
                        backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:02")!))
    }

    @Test func reusesPreviousWhenFreeOrOurs() throws {
        var rng = RegistrySeededRandom(state: 1)
        let previous = IPPrefix("10.244.9.0/24")!
        #expect(try allocator().choose(leases: [], previous: previous, using: &rng) == .create(previous))
        let ours = [registryTestLease("10.244.9.0/24", "192.168.1.2")]
        #expect(try allocator().choose(leases: ours, previous: previous, using: &rng) == .renew(previous))
        // Taken by another node: a fresh subnet instead, never the taken one.
        let theirs = [registryTestLease("10.244.9.0/24", "192.168.1.3")]
        let choice = try allocator().choose(leases: theirs, previous: previous, using: &rng)
        #expect(choice != .create(previous) && choice != .renew(previous))
        // A previous subnet that no longer fits the config is ignored.
        let stale = IPPrefix("10.99.9.0/24")!
        if case .create(let s, _, _) = try allocator().choose(leases: [], previous: stale, using: &rng) {
            #expect(config.network!.contains(s.address))
        } else { Issue.record("expected create") }
    }

    @Test func prefersALeaseAlreadyHeldByThisNode() throws {
        var rng = RegistrySeededRandom(state: 2)
        let leases = [registryTestLease("10.244.4.0/24", "192.168.1.3"), registryTestLease("10.244.5.0/24", "192.168.1.2")]
        #expect(try allocator().choose(leases: leases, previous: nil, using: &rng) == .renew(IPPrefix("10.244.5.0/24")!))
    }

    @Test func randomFreeSubnetInsideMinMax() throws {
        var rng = RegistrySeededRandom(state: 3)
        let small = try FlannelNetworkConfig.parse(Array(
            #"{"Network":"10.10.0.0/16","SubnetMin":"10.10.10.0","SubnetMax":"10.10.13.0","Backend":{"Type":"vxlan"}}"#.utf8))
        let leases = [registryTestLease("10.10.10.0/24", "1.1.1.1"), registryTestLease("10.10.12.0/24", "1.1.1.2")]
        var seen: Set<IPPrefix> = []
        for _ in 0..<50 {
            guard case .create(let s, _, _) = try allocator(small).choose(leases: leases, previous: nil, using: &rng) else {
                Issue.record("expected create"); return
            }
            seen.insert(s)
        }
        #expect(seen == [IPPrefix("10.10.11.0/24")!, IPPrefix("10.10.13.0/24")!])
    }

    @Test func exhaustionSaysWhy() throws {
        var rng = RegistrySeededRandom(state: 4)
        let tiny = try FlannelNetworkConfig.parse(Array(#"{"Network":"10.1.0.0/22","Backend":{"Type":"host-gw"}}"#.utf8))
        let leases = ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"].enumerated().map {
            registryTestLease($0.element, "10.0.0.\($0.offset + 10)")
        }
        #expect {
            _ = try allocator(tiny).choose(leases: leases, previous: nil, using: &rng)
        } throws: { error in
            (error as? PluginError)?.message
                == "no free subnet in 10.1.0.0/22 between 10.1.1.0 and 10.1.3.0 (/24): 3 leases held"
        }
    }

    @Test func overlappingLeaseOfAnotherLengthIsNotFree() throws {
        var rng = RegistrySeededRandom(state: 5)
        let tiny = try FlannelNetworkConfig.parse(Array(#"{"Network":"10.1.0.0/22","Backend":{"Type":"host-gw"}}"#.utf8))
        let leases = [registryTestLease("10.1.0.0/23", "10.0.0.9"), registryTestLease("10.1.2.0/23", "10.0.0.8")]
        #expect(throws: PluginError.self) { _ = try allocator(tiny).choose(leases: leases, previous: nil, using: &rng) }
    }

    @Test func lostRaceMovesOn() throws {
        let dir = RegistryTempDirectory("race")
        let registry = RacingRegistry(DirectoryRegistry(root: dir.path))
        var rng = RegistrySeededRandom(state: 6)
        let lease = try allocator().acquire(from: registry, previous: IPPrefix("10.244.9.0/24"), ttl: 60, using: &rng)
        #expect(lease.subnet != IPPrefix("10.244.9.0/24"))
        #expect(registry.stolen == [IPPrefix("10.244.9.0/24")!])
        let listed = try registry.leases()
        #expect(listed.count == 2 && listed.contains { $0.subnet == lease.subnet && $0.publicIP == me })
    }

    @Test func acquireRenewsOwnLeaseAndUpdatesIt() throws {
        let dir = RegistryTempDirectory("renew")
        let registry = DirectoryRegistry(root: dir.path)
        let first = try allocator().acquire(from: registry, previous: nil, ttl: 60)
        // Restart with a new VTEP MAC: same subnet, updated value.
        var restarted = allocator()
        restarted = SubnetAllocator(config: config, publicIP: me, backendType: "vxlan",
                                    backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:03")!))
        let second = try restarted.acquire(from: registry, previous: first.subnet, ttl: 60)
        #expect(second.subnet == first.subnet)
        #expect(try registry.leases().map(\.vtepMAC) == [MACAddress("aa:bb:cc:dd:ee:03")])
    }

    @Test func refusesIPv6OnlyAndDualStackWithoutPublicIPv6() throws {
        var rng = RegistrySeededRandom(state: 7)
        let v6only = try FlannelNetworkConfig.parse(Array(
            #"{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00::/48","Backend":{"Type":"vxlan"}}"#.utf8))
        #expect {
            _ = try allocator(v6only).choose(leases: [], previous: nil, using: &rng)
        } throws: { error in
            (error as? PluginError)?.message.hasPrefix("IPv6-only networks (EnableIPv4 false) are not supported") == true
        }
        let dual = try FlannelNetworkConfig.parse(Array(
            #"{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd00::/48","Backend":{"Type":"vxlan"}}"#.utf8))
        #expect {
            _ = try allocator(dual).choose(leases: [], previous: nil, using: &rng)
        } throws: { error in
            (error as? PluginError)?.message.contains("no public IPv6 address") == true
        }
    }
}

/// Lets another node win the first subnet this agent tries to create.
final class RacingRegistry: ForwardingRegistry {
    var stolen: [IPPrefix] = []
    override func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool {
        if stolen.isEmpty {
            stolen.append(lease.subnet)
            var other = lease
            other.publicIP = IPAddress("192.168.1.99")!
            _ = try inner.createLease(other, ttl: ttl)
        }
        return try inner.createLease(lease, ttl: ttl)
    }
}
