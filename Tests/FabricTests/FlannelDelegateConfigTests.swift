import Testing
import CNI
import NetTypes
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct FlannelDelegateConfigTests {
    let env = SubnetEnv(network: IPPrefix("10.244.0.0/16")!, lease: IPPrefix("10.244.7.0/24")!, mtu: 1450, ipMasq: true)

    func build(_ json: String) throws -> JSONValue {
        try FlannelDelegateConfig.build(from: NetworkConfig(bytes: Array(json.utf8)), subnetEnv: env)
    }

    @Test func defaultsAreFlannels() throws {
        let d = try build(#"{"cniVersion":"1.0.0","name":"cbr0","type":"flannel-vxlan"}"#)
        #expect(d["type"] == .string("bridge"))
        #expect(d["name"] == .string("cbr0"))
        #expect(d["isGateway"] == .bool(true))
        #expect(d["hairpinMode"] == .bool(true))
        #expect(d["ipMasq"] == .bool(false), "the agent masquerades when FLANNEL_IPMASQ is true")
        #expect(d["mtu"] == .int(1450))
        #expect(d["ipam"]?["type"] == .string("host-local"))
        #expect(d["ipam"]?["ranges"] == .array([.array([.object(["subnet": .string("10.244.7.0/24")])])]))
        #expect(d["ipam"]?["routes"] == .array([.object(["dst": .string("10.244.0.0/16")])]))
    }

    @Test func delegateKeysWinAndIPAMIsMerged() throws {
        let d = try build(#"{"cniVersion":"1.0.0","name":"cbr0","type":"flannel-vxlan","delegate":{"bridge":"kube0","isDefaultGateway":true,"mtu":1400,"ipMasq":true},"ipam":{"dataDir":"/tmp/x","routes":[{"dst":"192.168.0.0/16"}]}}"#)
        #expect(d["bridge"] == .string("kube0"))
        #expect(d["isDefaultGateway"] == .bool(true))
        #expect(d["mtu"] == .int(1400))
        #expect(d["ipMasq"] == .bool(true))
        #expect(d["ipam"]?["dataDir"] == .string("/tmp/x"))
        #expect(d["ipam"]?["routes"]?.arrayValue?.count == 2)
    }

    @Test func rejectsNonObjectDelegate() {
        #expect(throws: PluginError.self) { try build(#"{"cniVersion":"1.0.0","name":"n","delegate":"bridge"}"#) }
    }
}
