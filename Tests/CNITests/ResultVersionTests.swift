import Testing
import NetTypes
@testable import CNI

@Suite struct ResultVersionTests {
    let result = CNIResult(
        interfaces: [
            .init(name: "cni0", mac: MACAddress("0a:58:0a:16:00:01")),
            .init(name: "eth0", mac: MACAddress("0a:58:0a:16:00:05"), mtu: 1450, sandbox: "/var/run/netns/c1"),
        ],
        ips: [
            .init(address: IPPrefix("10.22.0.5/16")!, gateway: IPAddress("10.22.0.1"), interface: 1),
            .init(address: IPPrefix("fd00:22::5/64")!, gateway: IPAddress("fd00:22::1"), interface: 1),
        ],
        routes: [.init(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.22.0.1"), mtu: 1400)],
        dns: .init(nameservers: ["10.96.0.10"], search: ["svc.cluster.local"])
    )

    @Test func v1_1_0CarriesRouteAttributesAndInterfaceMTU() {
        let text = result.json(version: .v1_1_0).serialized()
        #expect(text == #"{"cniVersion":"1.1.0","dns":{"nameservers":["10.96.0.10"],"search":["svc.cluster.local"]},"interfaces":[{"mac":"0a:58:0a:16:00:01","name":"cni0"},{"mac":"0a:58:0a:16:00:05","mtu":1450,"name":"eth0","sandbox":"/var/run/netns/c1"}],"ips":[{"address":"10.22.0.5/16","gateway":"10.22.0.1","interface":1},{"address":"fd00:22::5/64","gateway":"fd00:22::1","interface":1}],"routes":[{"dst":"0.0.0.0/0","gw":"10.22.0.1","mtu":1400}]}"#)
    }

    @Test func v1_0_0DropsNewerFieldsAndHasNoIPVersion() {
        let j = result.json(version: .v1_0_0)
        #expect(j["cniVersion"] == .string("1.0.0"))
        #expect(j["ips"]?.arrayValue?.first?["version"] == nil)
        #expect(j["routes"]?.arrayValue?.first?["mtu"] == nil)
        #expect(j["interfaces"]?.arrayValue?[1]["mtu"] == nil)
    }

    @Test(arguments: [SpecVersion.v0_3_0, .v0_3_1, .v0_4_0])
    func legacyVersionsCarryIPVersion(_ v: SpecVersion) {
        let ips = result.json(version: v)["ips"]?.arrayValue ?? []
        #expect(ips.map { $0["version"] } == [.string("4"), .string("6")])
        #expect(result.json(version: v)["cniVersion"] == .string(v.rawValue))
    }

    @Test(arguments: SpecVersion.allCases)
    func roundTripsThroughEveryVersion(_ v: SpecVersion) throws {
        let back = try CNIResult(json: result.json(version: v), what: "test")
        #expect(back.ips == result.ips)
        #expect(back.interfaces.map(\.name) == ["cni0", "eth0"])
        #expect(back.dns == result.dns)
    }

    @Test func rejectsMalformedPrevResult() {
        #expect(throws: PluginError.self) {
            try CNIResult(json: .object(["ips": .array([.object(["address": .string("10.1.1.1")])])]), what: "prevResult")
        }
    }
}
