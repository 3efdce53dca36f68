import CNI
import Testing
@testable import FlannelAgent
@testable import SubnetRegistry

/// Issue 18 point 5, the agent's side: numbers from the registry's config (and the udp
/// tunnel's counters) reach narrower types through checks, never a trap.
@Suite struct AgentNumbersTests {
    static func backend(_ json: String = #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#) throws -> FlannelNetworkConfig.Backend {
        try FlannelNetworkConfig.parse(Array(json.utf8)).backend
    }

    @Test func vniAndPortAreChecked() throws {
        let numbers = try AgentNode.tunnelNumbers(try Self.backend(), registry: "directory /r")
        #expect(numbers.vni == 1 && numbers.port == 8472)
        let top = try AgentNode.tunnelNumbers(try Self.backend(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":16777215,"Port":65535}}"#),
                                              registry: "directory /r")
        #expect(top.vni == 16_777_215 && top.port == 65535)
        for vni in [0, -1, 16_777_216, 1 << 40, Int.min] {
            var b = try Self.backend()
            b.vni = vni
            #expect { try AgentNode.tunnelNumbers(b, registry: "directory /r") } throws: {
                "\($0)" == "the network config in directory /r: Backend.VNI \(vni) is out of range 1-16777215"
            }
        }
        for port in [0, -1, 65536, 1 << 40, Int.max] {
            var b = try Self.backend()
            b.port = port
            #expect { try AgentNode.tunnelNumbers(b, registry: "directory /r") } throws: {
                "\($0)" == "the network config in directory /r: Backend.Port \(port) is out of range 1-65535"
            }
        }
    }

    @Test func tunnelCounterGrowthNeverTraps() {
        #expect(UDPTunnelMetrics.growth(5, since: 3) == 2)
        #expect(UDPTunnelMetrics.growth(2, since: 10) == 2)  // a re-opened tunnel counts from zero
        #expect(UDPTunnelMetrics.growth(.max, since: 0) == .max)
    }
}
