import CNI
import NetTypes
import Testing

@testable import IPAM

@Suite struct ConfigTests {
    @Test func rangesWithReferenceDefaults() throws {
        let c = try config(#""ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00::/64"}]]"#)
        #expect(c.networkName == "net1")
        #expect(c.rangeSets.count == 2)
        let v4 = c.rangeSets[0].ranges[0]
        #expect(v4.subnet == prefix("10.1.0.0/24"))
        #expect(v4.rangeStart == ip("10.1.0.1"))
        #expect(v4.rangeEnd == ip("10.1.0.254"))
        #expect(v4.gateway == ip("10.1.0.1"))
        let v6 = c.rangeSets[1].ranges[0]
        #expect(v6.rangeStart == ip("fd00::1"))
        #expect(v6.rangeEnd == ip("fd00::ffff:ffff:ffff:ffff"))
        #expect(v6.gateway == ip("fd00::1"))
        #expect(c.routes.isEmpty)
        #expect(c.resolvConf == nil)
    }

    @Test func explicitValuesKept() throws {
        let c = try config(#""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.10","rangeEnd":"10.1.0.20","gateway":"10.1.0.254"}]]"#)
        let r = c.rangeSets[0].ranges[0]
        #expect((r.rangeStart, r.rangeEnd, r.gateway) == (ip("10.1.0.10"), ip("10.1.0.20"), ip("10.1.0.254")))
    }

    @Test func legacyRangeComesFirst() throws {
        let c = try config(#""subnet":"10.1.4.0/24","rangeStart":"10.1.4.7","gateway":"10.1.4.254","ranges":[[{"subnet":"10.1.5.0/24"}]]"#)
        #expect(c.rangeSets.count == 2)
        #expect(c.rangeSets[0].ranges[0].subnet == prefix("10.1.4.0/24"))
        #expect(c.rangeSets[0].ranges[0].rangeStart == ip("10.1.4.7"))
        #expect(c.rangeSets[0].ranges[0].gateway == ip("10.1.4.254"))
        #expect(c.rangeSets[1].ranges[0].subnet == prefix("10.1.5.0/24"))
    }

    @Test func runtimeIPRangesComeBeforeRanges() throws {
        let json = #"{"name":"n","ipam":{"subnet":"10.4.0.0/24","ranges":[[{"subnet":"10.2.0.0/24"}]]},"runtimeConfig":{"ipRanges":[[{"subnet":"10.3.0.0/24"}]]}}"#
        let c = try HostLocalConfig(networkConfig: Array(json.utf8))
        #expect(c.rangeSets.map { $0.ranges[0].subnet } == [prefix("10.3.0.0/24"), prefix("10.4.0.0/24"), prefix("10.2.0.0/24")])
    }

    @Test func routesDataDirResolvConfAndUnknownFields() throws {
        let json = #"""
            {"cniVersion":"0.4.0","name":"n","bridge":"cni0","ipam":{"type":"host-local","whatever":[1,2],
             "subnet":"10.1.0.0/16","routes":[{"dst":"0.0.0.0/0"},{"dst":"10.9.0.5/8","gw":"10.1.0.1"}],
             "resolvConf":"/etc/x.conf"}}
            """#
        let c = try HostLocalConfig(networkConfig: Array(json.utf8))
        #expect(c.routes == [
            CNIResult.Route(destination: prefix("0.0.0.0/0")),
            CNIResult.Route(destination: prefix("10.9.0.5/8"), gateway: ip("10.1.0.1")),
        ])
        #expect(c.dataDir == "/var/lib/cni/networks")
        #expect(c.resolvConf == "/etc/x.conf")
    }

    @Test func emptyStringsMeanAbsent() throws {
        let c = try config(#""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"","gateway":""}]]"#)
        #expect(c.rangeSets[0].ranges[0].rangeStart == ip("10.1.0.1"))
    }

    @Test func nonOverlappingRangesInOneSubnet() throws {
        let c = try config(#""ranges":[[{"subnet":"10.1.6.0/24","rangeEnd":"10.1.6.100"},{"subnet":"10.1.6.0/24","rangeStart":"10.1.6.101"}]]"#)
        #expect(c.rangeSets[0].ranges.count == 2)
    }

    @Test(arguments: [
        (#""ranges":[[{"subnet":"10.1.2.1/24"}]]"#, "host bits"),
        (#""ranges":[[{"subnet":"10.1.9.0/31"}]]"#, "too small"),
        (#""ranges":[[{"subnet":"fd00::/127"}]]"#, "too small"),
        (#""ranges":[[{"subnet":"banana"}]]"#, "not a CIDR"),
        (#""ranges":[[{"rangeStart":"10.1.1.1"}]]"#, "missing subnet"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.1.1"}]]"#, "rangeStart 10.1.1.1 is not in subnet"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","rangeEnd":"10.2.0.1"}]]"#, "rangeEnd 10.2.0.1 is not in subnet"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","gateway":"10.2.0.1"}]]"#, "gateway 10.2.0.1 is not in subnet"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"fd00::1"}]]"#, "not in subnet"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.20","rangeEnd":"10.1.0.10"}]]"#, "is after rangeEnd"),
        (#""ranges":[[{"subnet":"10.1.0.0/24","gateway":"10.1.0.x"}]]"#, "not an IP address"),
        (#""ranges":[[{"subnet":"10.1.7.0/24","rangeEnd":"10.1.7.100"},{"subnet":"10.1.7.0/24","rangeStart":"10.1.7.100"}]]"#, "overlap"),
        (#""ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"fd01::/64"}]]"#, "mixed address families"),
        (#""ranges":[[{"subnet":"10.1.8.0/24"}],[{"subnet":"10.1.8.0/25"}]]"#, "range set 0 (10.1.8.1-10.1.8.254) overlaps with range set 1"),
        (#""subnet":"10.1.0.0/24","ranges":[[{"subnet":"10.1.0.0/24"}]]"#, "overlaps"),
        (#""ranges":[]"#, "no IP ranges"),
        (#""ranges":[[]]"#, "range set is empty"),
        (#""routes":[{"gw":"10.0.0.1"}],"subnet":"10.1.0.0/24""#, "invalid route 0: missing dst"),
        (#""routes":[{"dst":"10.0.0.0"}],"subnet":"10.1.0.0/24""#, "not a CIDR"),
    ])
    func invalidConfig(fields: String, expected: String) {
        let error = thrownError { _ = try config(fields) }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func rangeErrorsNameTheSetAndRange() {
        let error = thrownError { _ = try config(#""ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.0/24"},{"subnet":"10.3.0.1/24"}]]"#) }
        #expect(error?.message.hasPrefix("invalid range set 1: range 1: subnet 10.3.0.1/24 has host bits set") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["", "a/b", "..", "x..y", ".", "a b", "fe80::1%eth0", "-net", "net$"])
    func badNetworkName(name: String) {
        let error = thrownError { _ = try config(#""subnet":"10.1.0.0/24""#, name: name) }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("network name") == true)
    }

    @Test func missingNameOrIPAM() {
        let noIPAM = thrownError { _ = try HostLocalConfig(networkConfig: Array(#"{"name":"n"}"#.utf8)) }
        #expect(noIPAM?.kind == .invalidConfig)
        #expect(noIPAM?.message.contains("ipam") == true)
        let noName = thrownError { _ = try HostLocalConfig(networkConfig: Array(#"{"ipam":{"subnet":"10.1.0.0/24"}}"#.utf8)) }
        #expect(noName?.kind == .invalidConfig)
    }

    @Test(arguments: [#"{"name":"n","ipam":{"subnet":5}}"#, "not json", #"{"name":"n","ipam":{"ranges":{}}}"#])
    func undecodable(json: String) {
        #expect(thrownError { _ = try HostLocalConfig(networkConfig: Array(json.utf8)) }?.kind == .decode)
    }

    @Test func allocationForAddress() throws {
        let c = try config(#""ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00::/64","gateway":"fd00::fe"}]]"#)
        #expect(c.allocation(for: ip("fd00::5")) == Allocation(address: prefix("fd00::5/64"), gateway: ip("fd00::fe"), rangeSetIndex: 1))
        #expect(c.allocation(for: ip("10.9.0.1")) == nil)
    }
}
