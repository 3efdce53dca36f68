import CNI
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct FlannelConfigTests {
    func parse(_ text: String) throws(PluginError) -> FlannelNetworkConfig {
        try FlannelNetworkConfig.parse(Array(text.utf8))
    }

    func message(_ text: String) -> String {
        do throws(PluginError) {
            _ = try parse(text)
            return "no error"
        } catch {
            #expect(error.kind == .invalidConfig || error.kind == .decode)
            return error.description
        }
    }

    @Test func defaultsFollowFlannel() throws {
        let c = try parse(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#)
        #expect(c.enableIPv4 && !c.enableIPv6)
        #expect(c.network == IPPrefix("10.244.0.0/16"))
        #expect(c.subnetLen == 24)
        #expect(c.subnetMin == IPAddress("10.244.1.0"))
        #expect(c.subnetMax == IPAddress("10.244.255.0"))
        #expect(c.backend.type == "vxlan")
        #expect(c.backend.vni == 1 && c.backend.port == 8472 && !c.backend.directRouting && c.backend.mtu == nil)
    }

    @Test func udpIsFlannelsDefaultBackendWithItsOwnPort() throws {
        for text in [#"{"Network":"10.244.0.0/16"}"#, #"{"Network":"10.244.0.0/16","Backend":{}}"#,
                     #"{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}"#] {
            let c = try parse(text)
            #expect(c.backend.type == "udp" && c.backend.port == 8285, "\(text)")
        }
        #expect(try parse(#"{"Network":"10.244.0.0/16","Backend":{"Type":"udp","Port":9000}}"#).backend.port == 9000)
        #expect(message(#"{"Network":"10.244.0.0/16","Backend":{"Type":"udp","Port":70000}}"#).contains("out of range"))
    }

    @Test func smallNetworksGetAQuarter() throws {
        // flannel: /24 when the network holds four of them, otherwise network length + 2.
        #expect(try parse(#"{"Network":"10.0.0.0/22","Backend":{"Type":"host-gw"}}"#).subnetLen == 24)
        let c = try parse(#"{"Network":"10.0.0.0/26","Backend":{"Type":"host-gw"}}"#)
        #expect(c.subnetLen == 28)
        #expect(c.subnetMin == IPAddress("10.0.0.16") && c.subnetMax == IPAddress("10.0.0.48"))
    }

    @Test func explicitValuesAndLowercaseNames() throws {
        let c = try parse(#"""
            {"network":"10.5.0.5/16","subnetlen":26,"SubnetMin":"10.5.3.0","SubnetMax":"10.5.9.192",
             "Backend":{"type":"vxlan","VNI":42,"Port":4789,"DirectRouting":true,"MTU":1400}}
            """#)
        #expect(c.network == IPPrefix("10.5.0.0/16"))
        #expect(c.subnetLen == 26 && c.subnetMin == IPAddress("10.5.3.0") && c.subnetMax == IPAddress("10.5.9.192"))
        #expect(c.backend.vni == 42 && c.backend.port == 4789 && c.backend.directRouting && c.backend.mtu == 1400)
    }

    @Test func ipv6Defaults() throws {
        let c = try parse(#"""
            {"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00:10::/48","Backend":{"Type":"vxlan"}}
            """#)
        #expect(c.network == nil && c.ipv6SubnetLen == 64)
        #expect(c.ipv6SubnetMin == IPAddress("fd00:10:0:1::"))
        #expect(c.ipv6SubnetMax == IPAddress("fd00:10:0:ffff::"))
    }

    @Test func validationMessages() {
        #expect(message(#"{"Backend":{"Type":"vxlan"}}"#).contains("Network is missing"))
        #expect(message(#"{"Network":"10.244.0.0/16","Backend":{"Type":"ipip"}}"#).contains("unknown backend type \"ipip\""))
        #expect(message(#"{"Network":"10.244.0.0/16","SubnetLen":31,"Backend":{"Type":"vxlan"}}"#).contains("too long"))
        #expect(message(#"{"Network":"10.244.0.0/16","SubnetLen":17,"Backend":{"Type":"vxlan"}}"#).contains("at least four subnets"))
        #expect(message(#"{"Network":"10.244.0.0/29","Backend":{"Type":"vxlan"}}"#).contains("too small"))
        #expect(message(#"{"Network":"10.244.0.0/16","SubnetMin":"10.245.0.0","Backend":{"Type":"vxlan"}}"#)
            .contains("SubnetMin 10.245.0.0 is not inside Network 10.244.0.0/16"))
        #expect(message(#"{"Network":"10.244.0.0/16","SubnetMax":"10.244.3.7","Backend":{"Type":"vxlan"}}"#)
            .contains("not on a /24 boundary"))
        #expect(message(#"{"Network":"10.244.0.0/16","SubnetMin":"10.244.9.0","SubnetMax":"10.244.3.0","Backend":{"Type":"vxlan"}}"#)
            .contains("above"))
        #expect(message(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":"x"}}"#).contains("at VNI: expected an integer"))
        #expect(message(#"{"EnableIPv6":true,"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#).contains("IPv6Network is missing"))
        #expect(message(#"{"Network":"fd00::/48","Backend":{"Type":"vxlan"}}"#).contains("not an IPv4 CIDR"))
        #expect(message("[1]").contains("JSON object"))
    }

    /// Numbers flannel reads into Go ints: an integer literal or an error naming the field,
    /// never a silent rounding, a wrap-around or a trap.
    @Test(arguments: [#""SubnetLen":2.4e1"#, #""SubnetLen":24.0"#, #""SubnetLen":1e30"#, #""SubnetLen":-24"#,
                      #""SubnetLen":99999999999999999999"#, #""IPv6SubnetLen":6.4e1"#])
    func numbersThatAreNotIntegersAreRefused(field: String) {
        let text = #"{"Network":"10.244.0.0/16","IPv6Network":"fd00::/48",\#(field),"Backend":{"Type":"vxlan"}}"#
        let name = String(field.dropFirst().prefix { $0 != "\"" })
        #expect(message(text).contains(name), "\(message(text))")
        #expect(message(text) != "no error")
    }

    @Test(arguments: [#""VNI":1e3"#, #""VNI":16777216"#, #""VNI":-1"#, #""Port":65536"#, #""Port":8.472e3"#,
                      #""MTU":4294967297"#, #""MTU":1.5e3"#, #""VNI":9223372036854775808"#])
    func backendNumbersAreCheckedByName(field: String) {
        let text = #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan",\#(field)}}"#
        let name = String(field.dropFirst().prefix { $0 != "\"" })
        #expect(message(text).contains(name), "\(message(text))")
        #expect(message(text) != "no error")
    }
}
