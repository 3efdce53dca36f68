import CNI
import NetTypes
import Testing
@testable import SubnetRegistry

/// Dual-stack leases in etcd: the `v4&v6` key with flannel's bytes, acquired by the
/// allocator, and deleted by exact key without touching a lease that shares the IPv4 half.
@Suite(.enabled(if: EtcdFixture.available, "needs root and /usr/bin/etcd (Debian etcd-server)"))
struct RegistryEtcdDualStackTests {
    @Test func dualLeaseAcquireAndDeleteByKey() throws {
        try EtcdFixture.withNamespace("dual") {
            let registry = try EtcdRegistry(endpoints: [EtcdFixture.clientURL])
            try registry.storeNetworkConfig(
                #"{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}"#)
            let allocator = SubnetAllocator(
                config: try registry.networkConfig(), publicIP: IPAddress("192.168.1.2")!, backendType: "vxlan",
                backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:02")!),
                publicIPv6: IPAddress("fd00::2"),
                backendV6Data: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:06")!))
            let lease = try allocator.acquire(from: registry, previous: IPPrefix("10.244.9.0/24"),
                                              previousIPv6: IPPrefix("fc00:0:0:9::/64"), ttl: 60)
            #expect(lease.key == "10.244.9.0-24&fc00:0:0:9::-64")
            let raw = try registry.call("/v3/kv/range", ["key": .string(EtcdJSON.base64("/coreos.com/network/subnets/" + lease.key))])
            let kv = try #require(EtcdKeyValue(raw["kvs"]?.arrayValue?.first))
            var stored = lease
            stored.expiration = nil
            #expect(kv.value == Array(LeaseJSON.encode(stored).utf8))
            #expect(try registry.leases() == [stored])
            let again = try allocator.acquire(from: registry, previous: nil, ttl: 60)
            #expect(again.key == lease.key)

            let sibling = dualLease("10.244.9.0/24", "fc00:0:0:a::/64", "192.168.1.3")
            #expect(try registry.createLease(sibling, ttl: 60))
            try registry.deleteLease(key: lease.key)
            try registry.deleteLease(key: lease.key)
            #expect(try registry.leases().map(\.key) == [sibling.key])
        }
    }
}
