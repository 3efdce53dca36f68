import CNI
import NetTypes
import Testing
@testable import SubnetRegistry

/// Dual-stack allocation: one lease `v4&v6` per node, both halves chosen flannel's way.
@Suite struct DualStackAllocatorTests {
    let config = try! FlannelNetworkConfig.parse(Array(
        #"{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}"#.utf8))
    let me = IPAddress("192.168.1.2")!
    let meV6 = IPAddress("fd00::2")!

    func allocator(_ config: FlannelNetworkConfig? = nil) -> SubnetAllocator {
        SubnetAllocator(config: config ?? self.config, publicIP: me, backendType: "vxlan",
                        backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:02")!),
                        publicIPv6: meV6,
                        backendV6Data: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:06")!))
    }

    func p(_ text: String) -> IPPrefix { IPPrefix(text)! }

    @Test func randomPickInsideMinMaxPerFamily() throws {
        var rng = RegistrySeededRandom(state: 11)
        let small = try FlannelNetworkConfig.parse(Array(#"""
            {"Network":"10.10.0.0/16","SubnetMin":"10.10.10.0","SubnetMax":"10.10.13.0",
             "EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetMin":"fc00:0:0:10::","IPv6SubnetMax":"fc00:0:0:13::",
             "Backend":{"Type":"vxlan"}}
            """#.utf8))
        let leases = [dualLease("10.10.10.0/24", "fc00:0:0:11::/64", "1.1.1.1"),
                      dualLease("10.10.12.0/24", "fc00:0:0:13::/64", "1.1.1.2")]
        var seen4: Set<IPPrefix> = [], seen6: Set<IPPrefix> = []
        for _ in 0..<60 {
            guard case .create(let v4, let v6?, let replacing) = try allocator(small).choose(leases: leases, previous: nil, using: &rng)
            else { Issue.record("expected a dual create"); return }
            #expect(replacing.isEmpty)
            seen4.insert(v4)
            seen6.insert(v6)
        }
        #expect(seen4 == [p("10.10.11.0/24"), p("10.10.13.0/24")])
        #expect(seen6 == [p("fc00:0:0:10::/64"), p("fc00:0:0:12::/64")])
    }

    @Test func reusesPreviousSubnetsPerFamily() throws {
        var rng = RegistrySeededRandom(state: 12)
        let p4 = p("10.244.9.0/24"), p6 = p("fc00:0:0:9::/64")
        #expect(try allocator().choose(leases: [], previous: p4, previousIPv6: p6, using: &rng) == .create(p4, ipv6: p6))
        // The previous IPv6 subnet went to another node: keep IPv4, a fresh IPv6 subnet.
        let v6Taken = [dualLease("10.244.20.0/24", "fc00:0:0:9::/64", "192.168.1.3")]
        guard case .create(let v4, let v6?, _) = try allocator().choose(leases: v6Taken, previous: p4, previousIPv6: p6, using: &rng)
        else { Issue.record("expected create"); return }
        #expect(v4 == p4 && v6 != p6 && config.ipv6Network!.contains(v6.address))
        // And the reverse.
        let v4Taken = [dualLease("10.244.9.0/24", "fc00:0:0:20::/64", "192.168.1.3")]
        guard case .create(let w4, let w6?, _) = try allocator().choose(leases: v4Taken, previous: p4, previousIPv6: p6, using: &rng)
        else { Issue.record("expected create"); return }
        #expect(w4 != p4 && w6 == p6)
        // An IPv6 lease of another length overlapping the previous one: not free either.
        let overlap = [dualLease("10.244.20.0/24", "fc00:0:0:8::/62", "192.168.1.3")]
        guard case .create(_, let x6?, _) = try allocator().choose(leases: overlap, previous: p4, previousIPv6: p6, using: &rng)
        else { Issue.record("expected create"); return }
        #expect(!p("fc00:0:0:8::/62").overlaps(x6))
    }

    /// This node's lease is renewed as the registry has it when either half is the previous one.
    @Test func ownLeaseRecognisedByEitherHalf() throws {
        var rng = RegistrySeededRandom(state: 13)
        let p4 = p("10.244.9.0/24"), p6 = p("fc00:0:0:9::/64")
        let sameV4 = [dualLease("10.244.9.0/24", "fc00:0:0:5::/64", "192.168.1.2")]
        #expect(try allocator().choose(leases: sameV4, previous: p4, previousIPv6: p6, using: &rng)
                == .renew(p4, ipv6: p("fc00:0:0:5::/64")))
        let sameV6 = [dualLease("10.244.5.0/24", "fc00:0:0:9::/64", "192.168.1.2")]
        #expect(try allocator().choose(leases: sameV6, previous: p4, previousIPv6: p6, using: &rng)
                == .renew(p("10.244.5.0/24"), ipv6: p6))
        // No previous at all: the lease with this PublicIP.
        let others = [dualLease("10.244.4.0/24", "fc00:0:0:4::/64", "192.168.1.3"),
                      dualLease("10.244.5.0/24", "fc00:0:0:5::/64", "192.168.1.2")]
        #expect(try allocator().choose(leases: others, previous: nil, using: &rng)
                == .renew(p("10.244.5.0/24"), ipv6: p("fc00:0:0:5::/64")))
        // Our PublicIPv6 under another PublicIP is not ours: that node keeps its subnets.
        var stranger = dualLease("10.244.9.0/24", "fc00:0:0:9::/64", "192.168.1.3")
        stranger.publicIPv6 = meV6
        guard case .create(let v4, let v6?, _) = try allocator().choose(leases: [stranger], previous: p4, previousIPv6: p6, using: &rng)
        else { Issue.record("expected create"); return }
        #expect(v4 != p4 && v6 != p6)
    }

    /// A node that ran IPv4-only keeps its IPv4 subnet when the config turns dual-stack; the
    /// old key is replaced by the dual one, and the reverse when IPv6 is turned off again.
    @Test func upgradeAndDowngradeKeepTheIPv4Subnet() throws {
        let dir = RegistryTempDirectory("dsup")
        let registry = DirectoryRegistry(root: dir.path)
        let v4only = try FlannelNetworkConfig.parse(Array(registryVXLANConfig.utf8))
        let first = try allocator(v4only).acquire(from: registry, previous: nil, ttl: 60)
        #expect(first.ipv6Subnet == nil && first.publicIPv6 == nil && first.backendV6Data == nil)
        let dual = try allocator().acquire(from: registry, previous: first.subnet, ttl: 60)
        #expect(dual.subnet == first.subnet)
        let v6 = try #require(dual.ipv6Subnet)
        #expect(dual.publicIPv6 == meV6 && dual.backendV6Data?["VtepMAC"]?.stringValue == "aa:bb:cc:dd:ee:06")
        #expect(try RegistryFiles.list(registry.subnetsDirectory) == [dual.key])
        // Restart without subnet.env: the listing alone is enough.
        let again = try allocator().acquire(from: registry, previous: nil, ttl: 60)
        #expect(again.key == dual.key)
        var rng = RegistrySeededRandom(state: 14)
        #expect(try allocator(v4only).choose(leases: registry.leases(), previous: first.subnet, previousIPv6: v6, using: &rng)
                == .create(first.subnet, replacing: [dual.key]))
        let back = try allocator(v4only).acquire(from: registry, previous: first.subnet, previousIPv6: v6, ttl: 60)
        #expect(try RegistryFiles.list(registry.subnetsDirectory) == [back.key] && back.key == first.key)
    }

    /// Losing the exact key excludes both halves.
    @Test func lostRaceExcludesBothHalves() throws {
        let dir = RegistryTempDirectory("dsrace")
        let registry = RacingRegistry(DirectoryRegistry(root: dir.path))
        var rng = RegistrySeededRandom(state: 15)
        let p4 = p("10.244.9.0/24"), p6 = p("fc00:0:0:9::/64")
        let lease = try allocator().acquire(from: registry, previous: p4, previousIPv6: p6, ttl: 60, using: &rng)
        #expect(registry.stolen == [p4])
        #expect(lease.subnet != p4 && lease.ipv6Subnet != p6 && lease.ipv6Subnet != nil)
        #expect(try registry.leases().count == 2)
    }

    /// Another node creates a key with our IPv4 subnet and another IPv6 one at the same time:
    /// both creates succeed (different keys); ours is withdrawn, only the IPv4 half excluded.
    @Test func halfRaceIsNoticedAndWithdrawn() throws {
        let dir = RegistryTempDirectory("dshalf")
        let registry = HalfRacingRegistry(DirectoryRegistry(root: dir.path))
        var rng = RegistrySeededRandom(state: 16)
        let p4 = p("10.244.9.0/24"), p6 = p("fc00:0:0:9::/64")
        let lease = try allocator().acquire(from: registry, previous: p4, previousIPv6: p6, ttl: 60, using: &rng)
        #expect(lease.subnet != p4 && lease.ipv6Subnet == p6)
        let listed = try registry.leases()
        #expect(listed.count == 2)
        #expect(listed.filter { $0.subnet == p4 }.map(\.publicIP) == [IPAddress("192.168.1.99")!])
        #expect(listed.contains { $0.key == lease.key && $0.publicIP == me })
    }

    @Test func exhaustionNamesTheFamily() throws {
        var rng = RegistrySeededRandom(state: 17)
        let one = try FlannelNetworkConfig.parse(Array(#"""
            {"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48",
             "IPv6SubnetMin":"fc00:0:0:7::","IPv6SubnetMax":"fc00:0:0:7::","Backend":{"Type":"vxlan"}}
            """#.utf8))
        let leases = [dualLease("10.244.1.0/24", "fc00:0:0:7::/64", "192.168.1.3")]
        #expect {
            _ = try allocator(one).choose(leases: leases, previous: nil, using: &rng)
        } throws: { error in
            (error as? PluginError)?.message
                == "no free IPv6 subnet in fc00::/48 between fc00:0:0:7:: and fc00:0:0:7:: (/64): 1 leases held"
        }
        // The lost one is counted per family.
        #expect {
            _ = try allocator(one).choose(leases: [], previous: nil, excluded: [p("fc00:0:0:7::/64"), p("10.244.3.0/24")],
                                          using: &rng)
        } throws: { error in
            (error as? PluginError)?.message.hasSuffix("0 leases held, 1 lost to other nodes") == true
        }
    }

    @Test func deleteByKeyLeavesTheSibling() throws {
        let dir = RegistryTempDirectory("dsdel")
        let registry = DirectoryRegistry(root: dir.path)
        let a = dualLease("10.244.1.0/24", "fc00:0:0:1::/64", "192.168.1.2")
        let b = dualLease("10.244.1.0/24", "fc00:0:0:2::/64", "192.168.1.3")
        #expect(try registry.createLease(a, ttl: 60) && registry.createLease(b, ttl: 60))
        try registry.deleteLease(key: a.key)
        try registry.deleteLease(key: a.key)  // repeatable
        #expect(try registry.leases().map(\.key) == [b.key])
        #expect(throws: PluginError.self) { try registry.deleteLease(key: "../config") }
    }
}

func dualLease(_ v4: String, _ v6: String, _ publicIP: String) -> SubnetLease {
    SubnetLease(subnet: IPPrefix(v4)!, ipv6Subnet: IPPrefix(v6)!, publicIP: IPAddress(publicIP)!,
                publicIPv6: IPAddress("fd00::99"), backendType: "vxlan",
                backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:01")!),
                backendV6Data: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:61")!))
}

/// Just before this agent's first create, another node creates a lease with the same IPv4
/// subnet and a different IPv6 one (a different key, so both creates succeed).
final class HalfRacingRegistry: ForwardingRegistry {
    var raced = false
    override func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool {
        if !raced, let v6 = lease.ipv6Subnet {
            raced = true
            var other = lease
            other.publicIP = IPAddress("192.168.1.99")!
            other.ipv6Subnet = IPPrefix(address: SubnetMath.next(v6.address, length: v6.length)!, length: v6.length)
            _ = try inner.createLease(other, ttl: ttl)
        }
        return try inner.createLease(lease, ttl: ttl)
    }
}
