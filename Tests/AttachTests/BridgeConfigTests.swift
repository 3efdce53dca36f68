import Testing
import CNI
@testable import Attach

@Suite struct BridgeConfigTests {
    func parse(_ fields: String) throws -> BridgeConfig {
        let text = #"{"cniVersion":"1.0.0","name":"n","type":"bridge""# + (fields.isEmpty ? "" : "," + fields) + "}"
        return try BridgeConfig(NetworkConfig(bytes: Array(text.utf8)))
    }

    @Test func defaultsMatchTheReference() throws {
        let c = try parse("")
        #expect(c.bridge == "cni0")
        #expect(!c.isGateway && !c.isDefaultGateway && !c.ipMasq && !c.hairpinMode && !c.enableDAD)
        #expect(c.preserveDefaultVlan)
        #expect(c.mtu == nil && c.vlan == 0 && c.ipamType == nil)
    }

    @Test func defaultGatewayImpliesGateway() throws {
        let c = try parse(#""isDefaultGateway":true,"ipam":{"type":"host-local"}"#)
        #expect(c.isGateway)
        #expect(c.ipamType == "host-local")
    }

    @Test func vlanTrunkAcceptsIDsAndRanges() throws {
        let c = try parse(#""vlanTrunk":[{"id":5},{"minID":100,"maxID":110}]"#)
        #expect(c.vlanTrunk == [.init(minID: 5, maxID: 5), .init(minID: 100, maxID: 110)])
        #expect(c.usesVLANs)
    }

    @Test(arguments: [
        #""vlan":5000"#, #""vlan":-1"#, #""vlanTrunk":[{"minID":10,"maxID":5}]"#, #""vlanTrunk":[{"id":0}]"#,
        #""vlan":5,"vlanTrunk":[{"id":6}]"#, #""mtu":20"#, #""bridge":"a/b""#, #""bridge":"waytoolongbridgename""#,
        #""isGateway":true"#, #""ipam":{"subnet":"10.0.0.0/24"}"#,
        // Numbers not written as integers, or too large for any: refused, not rounded.
        #""mtu":1e3"#, #""mtu":1500.0"#, #""vlan":5.0"#, #""vlan":1e19"#, #""vlanTrunk":[{"id":1e1}]"#,
        #""vlanTrunk":[{"minID":1,"maxID":2.5}]"#,
    ])
    func invalidConfigsAreCode7(_ fields: String) {
        do {
            _ = try parse(fields)
            Issue.record("accepted \(fields)")
        } catch let e as PluginError {
            #expect(e.kind == .invalidConfig, "\(fields): \(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// A field of the wrong JSON type is code 6 in every plugin (host-local too), with its path.
    @Test(arguments: [#""ipMasq":"yes""#, #""mtu":"1500""#, #""bridge":7"#, #""vlanTrunk":{"id":3}"#])
    func wrongJSONTypesAreCode6(_ fields: String) {
        do {
            _ = try parse(fields)
            Issue.record("accepted \(fields)")
        } catch let e as PluginError {
            #expect(e.kind == .decode, "\(fields): \(e)")
            #expect(e.description.contains("at "), "\(fields): \(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
