import Testing
import NetTypes

@Suite struct IPAddressTests {
    @Test(arguments: ["10.22.0.5", "0.0.0.0", "255.255.255.255", "::", "::1", "fe80::1", "fd00:22::5",
                      "2001:db8:0:1:1:1:1:1", "2001:db8::1:0:0:1", "::ffff:10.1.2.3"])
    func parseAndFormatRoundTrip(_ text: String) {
        let expected = text == "::ffff:10.1.2.3" ? "::ffff:a01:203" : text
        #expect(IPAddress(text)?.description == expected)
    }

    @Test(arguments: ["10.22.0", "10.22.0.256", "1.2.3.4.5", "01234::", "1::2::3", "", "a.b.c.d", "1:2:3:4:5:6:7:8:9",
                      "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.0255", "1.2.3.+4", "1.2.3.4 ", "١.2.3.4"])
    func rejectsInvalid(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixMath() {
        let p = IPPrefix("10.22.7.5/16")!
        #expect(p.network.description == "10.22.0.0/16")
        #expect(p.lastAddress.description == "10.22.255.255")
        #expect(p.contains(IPAddress("10.22.200.1")!))
        #expect(!p.contains(IPAddress("10.23.0.1")!))
        #expect(p.overlaps(IPPrefix("10.0.0.0/8")!))
        #expect(!p.overlaps(IPPrefix("10.23.0.0/16")!))
        let v6 = IPPrefix("fd00:22::5/64")!
        #expect(v6.network.description == "fd00:22::/64")
        #expect(v6.lastAddress.description == "fd00:22::ffff:ffff:ffff:ffff")
        #expect(IPPrefix("10.0.0.1/33") == nil)
    }

    @Test func advancedCarriesAcrossWords() {
        #expect(IPAddress("::ffff:ffff:ffff:ffff")!.advanced(by: 1)?.description == "0:0:0:1::")
        #expect(IPAddress("10.0.0.255")!.advanced(by: 1)?.description == "10.0.1.0")
        #expect(IPAddress("255.255.255.255")!.advanced(by: 1) == nil)
    }

    @Test func macAddress() {
        #expect(MACAddress("0A:58:0a:16:00:01")?.description == "0a:58:0a:16:00:01")
        #expect(MACAddress("0a:58") == nil)
        #expect(MACAddress("0A-58-0a-16-00-01")?.description == "0a:58:0a:16:00:01")
        for bad in ["0a:58:0a:16:00:01:02", "0a:58:0a:16:00:1", "0a:58:0a:16:00:011", "0a:58:0a:16:00:0g", "0a:58:0a:16:00:", ""] {
            #expect(MACAddress(bad) == nil, "\(bad)")
        }
        let r = MACAddress.random()
        #expect(r.bytes[0] & 0x03 == 0x02)
    }
}
