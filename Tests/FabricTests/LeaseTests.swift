import CNI
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct LeaseTests {
    @Test func keyFormat() {
        #expect(LeaseKey.make(subnet: IPPrefix("10.244.1.0/24")!, ipv6Subnet: nil) == "10.244.1.0-24")
        #expect(LeaseKey.make(subnet: IPPrefix("10.244.1.7/24")!, ipv6Subnet: IPPrefix("fd00:0:0:1::/64"))
                == "10.244.1.0-24&fd00:0:0:1::-64")
        #expect(LeaseKey.parse("/coreos.com/network/subnets/10.244.1.0-24")?.subnet == IPPrefix("10.244.1.0/24"))
        let dual = LeaseKey.parse("10.244.1.0-24&fd00:0:0:1::-64")
        #expect(dual?.subnet == IPPrefix("10.244.1.0/24") && dual?.ipv6Subnet == IPPrefix("fd00:0:0:1::/64"))
        for bad in ["10.244.1.0", "10.244.1.5-24", ".tmp-1-2", "10.244.1.0-33", "10.244.1.0-24&zz-64", "config",
                    "10.244.1.0-", "10.244.1.0-+4", "10.244.1.0-24&", "10.244.1.0-24&fd00::-64&fd01::-64",
                    "fd00::-64", "10.244.1.0-24&10.244.2.0-24", "10.244.1.0-2a", "10.244.01.0.0-24"] {
            #expect(LeaseKey.parse(bad) == nil, "\(bad)")
        }
    }

    /// The bytes flannel's Go `json.Marshal(LeaseAttrs)` writes for a vxlan lease.
    @Test func jsonMatchesFlannelBytes() throws {
        let lease = SubnetLease(subnet: IPPrefix("10.244.1.0/24")!, publicIP: IPAddress("192.168.1.2")!,
                                backendType: "vxlan",
                                backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("9e:8b:36:6c:38:0f")!))
        let flannel = #"{"PublicIP":"192.168.1.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"9e:8b:36:6c:38:0f"}}"#
        #expect(LeaseJSON.encode(lease) == flannel)
        let back = try LeaseJSON.decode(Array(flannel.utf8), key: "10.244.1.0-24")
        #expect(back == lease)
        #expect(back.vtepMAC == MACAddress("9e:8b:36:6c:38:0f") && back.vni == 1)
    }

    @Test func hostGWOmitsBackendDataAsFlannelDoes() throws {
        let lease = SubnetLease(subnet: IPPrefix("10.244.2.0/24")!, publicIP: IPAddress("192.168.1.3")!, backendType: "host-gw")
        #expect(LeaseJSON.encode(lease) == #"{"PublicIP":"192.168.1.3","PublicIPv6":null,"BackendType":"host-gw"}"#)
        // The contract's spelling with an explicit null reads the same.
        let withNull = #"{"PublicIP":"192.168.1.3","PublicIPv6":null,"BackendType":"host-gw","BackendData":null}"#
        #expect(try LeaseJSON.decode(Array(withNull.utf8), key: "10.244.2.0-24") == lease)
    }

    @Test func dualStackFields() throws {
        let lease = SubnetLease(subnet: IPPrefix("10.244.1.0/24")!, ipv6Subnet: IPPrefix("fd00:0:0:1::/64"),
                                publicIP: IPAddress("192.168.1.2")!, publicIPv6: IPAddress("fd00::2"),
                                backendType: "vxlan", backendData: .object(["VNI": .int(1)]),
                                backendV6Data: .object(["VNI": .int(1)]))
        let text = LeaseJSON.encode(lease)
        #expect(text == #"{"PublicIP":"192.168.1.2","PublicIPv6":"fd00::2","BackendType":"vxlan","BackendData":{"VNI":1},"BackendV6Data":{"VNI":1}}"#)
        #expect(try LeaseJSON.decode(Array(text.utf8), key: lease.key) == lease)
    }

    /// A dual-stack vxlan lease exactly as flannel writes it (key and `json.Marshal` bytes):
    /// understood field by field, and written back byte for byte under the same key.
    @Test func flannelDualStackFixtureRoundTrips() throws {
        let key = "10.244.1.0-24&fc00:0:0:1::-64"
        let flannel = #"{"PublicIP":"192.168.1.2","PublicIPv6":"fd00::2","BackendType":"vxlan","#
            + #""BackendData":{"VNI":1,"VtepMAC":"9e:8b:36:6c:38:0f"},"#
            + #""BackendV6Data":{"VNI":1,"VtepMAC":"5a:1c:e3:90:2b:71"}}"#
        let lease = try LeaseJSON.decode(Array(flannel.utf8), key: "/coreos.com/network/subnets/" + key)
        #expect(lease.subnet == IPPrefix("10.244.1.0/24") && lease.ipv6Subnet == IPPrefix("fc00:0:0:1::/64"))
        #expect(lease.publicIP == IPAddress("192.168.1.2") && lease.publicIPv6 == IPAddress("fd00::2"))
        #expect(lease.vtepMAC == MACAddress("9e:8b:36:6c:38:0f") && lease.vni == 1)
        #expect(lease.backendV6Data == SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("5a:1c:e3:90:2b:71")!))
        #expect(lease.key == key)
        #expect(LeaseJSON.encode(lease) == flannel)
    }

    @Test func badValuesNameTheKey() {
        for value in ["{}", "not json", #"{"PublicIP":"fd00::1"}"#] {
            #expect {
                _ = try LeaseJSON.decode(Array(value.utf8), key: "10.244.1.0-24")
            } throws: { error in
                (error as? PluginError)?.message.contains("10.244.1.0-24") == true
            }
        }
    }

    @Test func expiry() {
        let lease = registryTestLease("10.244.1.0/24", "192.168.1.2", expiration: 100)
        #expect(lease.isExpired(at: 100) && !lease.isExpired(at: 99.5))
        #expect(!registryTestLease("10.244.1.0/24", "192.168.1.2").isExpired(at: 1e12))
    }
}
