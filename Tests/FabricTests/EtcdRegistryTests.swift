import CNI
import Glibc
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite(.enabled(if: EtcdFixture.available, "needs root and /usr/bin/etcd (Debian etcd-server)"))
struct EtcdRegistryTests {
    @Test func configAndLeaseLifecycle() throws {
        try EtcdFixture.withNamespace("life") {
            let registry = try EtcdRegistry(endpoints: [EtcdFixture.clientURL])
            #expect {
                _ = try registry.networkConfig()
            } throws: { error in
                (error as? RegistryError)?.kind == .notFound
                    && (error as? RegistryError)?.message.contains("/coreos.com/network/config not found") == true
            }
            try registry.storeNetworkConfig(registryVXLANConfig)
            #expect(try registry.networkConfig().subnetMax == IPAddress("10.244.255.0"))

            let mine = registryTestLease("10.244.1.0/24", "192.168.1.2")
            var theirs = mine
            theirs.publicIP = IPAddress("192.168.1.3")!
            #expect(try registry.createLease(mine, ttl: 60))
            #expect(try !registry.createLease(theirs, ttl: 60))
            // flannel's key and value bytes, attached to an etcd lease.
            let raw = try registry.call("/v3/kv/range", ["key": .string(EtcdJSON.base64("/coreos.com/network/subnets/10.244.1.0-24"))])
            let kv = try #require(EtcdKeyValue(raw["kvs"]?.arrayValue?.first))
            #expect(kv.value == Array(LeaseJSON.encode(mine).utf8))
            #expect(kv.lease != 0)
            #expect(try registry.leases() == [mine])

            try registry.renewLease(mine, ttl: 60)  // keepalive: same etcd lease
            let afterKeepAlive = try registry.call("/v3/kv/range", ["key": .string(EtcdJSON.base64("/coreos.com/network/subnets/10.244.1.0-24"))])
            #expect(EtcdKeyValue(afterKeepAlive["kvs"]?.arrayValue?.first)?.lease == kv.lease)
            #expect(throws: RegistryError.self) { try registry.renewLease(theirs, ttl: 60) }

            var moved = mine
            moved.backendData = SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:99")!)
            try registry.renewLease(moved, ttl: 120)  // new attributes: re-put with a fresh etcd lease
            #expect(try registry.leases().map(\.vtepMAC) == [MACAddress("aa:bb:cc:dd:ee:99")])

            try registry.deleteLease(subnet: mine.subnet)
            try registry.deleteLease(subnet: mine.subnet)
            #expect(try registry.leases().isEmpty)
            try registry.renewLease(mine, ttl: 60)  // gone: recreated
            #expect(try registry.leases().count == 1)
        }
    }

    @Test func watchAndExpiry() throws {
        try EtcdFixture.withNamespace("watch") {
            let registry = try EtcdRegistry(endpoints: [EtcdFixture.clientURL])
            #expect(try registry.waitForChanges(timeout: 1).needsRelist)  // never listed: list first
            _ = try registry.leases()
            #expect(try registry.waitForChanges(timeout: 0.5) == .timeout)
            try registryWatchSeesCreate(registry, limit: 1.5) { try EtcdRegistry(endpoints: [EtcdFixture.clientURL]) }
            #expect(try registry.leases().count == 1)
            // The 3 s etcd lease runs out without renewal: etcd deletes the key, the watch says so
            // (on the watch kept open across that listing).
            #expect(try registry.waitForChanges(timeout: 15) == .events([.delete(storedKey: "10.244.5.0-24")]))
            #expect(try registry.leases().isEmpty)
        }
    }

    @Test func eightAgentsRace() throws {
        try EtcdFixture.withNamespace("race") {
            try registryEightAgentsRace { try EtcdRegistry(endpoints: [EtcdFixture.clientURL]) }
        }
    }

    @Test func failsOverAndNamesUnreachableEndpoints() throws {
        try EtcdFixture.withNamespace("fail") {
            let dead = try EtcdRegistry(endpoints: ["http://127.0.0.1:1", "http://127.0.0.2:1"])
            #expect {
                _ = try dead.leases()
            } throws: { error in
                (error as? RegistryError)?.kind == .unreachable && (error as? RegistryError)?.message
                    == "etcd http://127.0.0.1:1 unreachable: Connection refused; etcd http://127.0.0.2:1 unreachable: Connection refused"
            }
            let mixed = try EtcdRegistry(endpoints: ["http://127.0.0.1:1", EtcdFixture.clientURL])
            #expect(try mixed.leases().isEmpty)
            #expect(mixed.current == 1)
        }
    }

    /// A server that accepts but never answers: the request times out instead of hanging.
    @Test func stalledServerTimesOut() throws {
        try EtcdFixture.withNamespace("stall", etcd: false) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(2379).bigEndian
            addr.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(bound == 0 && listen(fd, 8) == 0)
            let registry = try EtcdRegistry(endpoints: [EtcdFixture.clientURL])
            registry.requestTimeout = 0.5
            let started = monotonicNow()
            #expect {
                _ = try registry.leases()
            } throws: { error in
                (error as? RegistryError)?.kind == .timeout
                    && (error as? RegistryError)?.message.contains("http://127.0.0.1:2379") == true
            }
            #expect(monotonicNow() - started < 5)
        }
    }
}

@Suite struct EtcdEndpointTests {
    @Test func parsesEndpoints() throws {
        #expect(EtcdEndpoint(url: "http://10.0.0.1:2379")?.description == "http://10.0.0.1:2379")
        #expect(EtcdEndpoint(url: "http://10.0.0.1")?.port == 2379)
        #expect(EtcdEndpoint(url: "https://10.0.0.1:2379")?.isTLS == true)
        let v6 = try #require(EtcdEndpoint(url: "http://[fd00::1]:2379/"))
        #expect(v6.host == "fd00::1" && v6.port == 2379 && v6.description == "http://[fd00::1]:2379")
        for bad in ["10.0.0.1:2379", "http://", "http://[fd00::1", "http://h:0",
                    "http://h:99999", "http://h:1/v3", "http://[fd00::1]x", "ftp://h:1"] {
            #expect(EtcdEndpoint(url: bad) == nil, "\(bad)")
        }
        #expect(throws: RegistryError.self) { _ = try EtcdRegistry(endpoints: ["etcd:2379"]) }
        #expect(throws: RegistryError.self) { _ = try EtcdRegistry(endpoints: []) }
    }

    @Test func gatewayEncodings() {
        #expect(EtcdJSON.base64("/coreos.com/network/subnets/") == "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLw==")
        #expect(EtcdJSON.prefixEnd("/a/") == Array("/a0".utf8))
        #expect(EtcdJSON.int64(.string("7587899160093269509")) == 7_587_899_160_093_269_509)
        #expect(EtcdJSON.int64(nil) == 0)
    }
}
