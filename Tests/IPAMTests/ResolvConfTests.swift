import CNI
import Testing

@testable import IPAM

@Suite struct DNSResolvConfTests {
    @Test func parsesLikeTheReference() {
        let text = """
            # comment
            ; other comment
            nameserver 10.0.0.53
              nameserver   fd00::53 extra
            domain example.com
            search a.example b.example
            search c.example
            options ndots:5 edns0
            sortlist 10.0.0.0
            nameserver
            """
        let dns = CNIResult.DNS(resolvConf: text)
        #expect(dns == CNIResult.DNS(
            nameservers: ["10.0.0.53", "fd00::53"], domain: "example.com",
            search: ["a.example", "b.example", "c.example"], options: ["ndots:5", "edns0"]))
    }

    @Test func loadsFileAndReportsMissing() throws {
        try withTempDir { dir in
            try writeFile(dir + "/resolv.conf", "nameserver 1.1.1.1\n")
            let c = try config(#""subnet":"10.1.0.0/24","resolvConf":"\#(dir)/resolv.conf""#)
            #expect(try c.dns()?.nameservers == ["1.1.1.1"])
            let missing = try config(#""subnet":"10.1.0.0/24","resolvConf":"\#(dir)/nope""#)
            let error = thrownError { _ = try missing.dns() }
            #expect(error?.kind == .io)
            #expect(error?.message.contains("\(dir)/nope") == true)
            #expect(error?.message.contains("No such file") == true)
            #expect(try config(#""subnet":"10.1.0.0/24""#).dns() == nil)
        }
    }
}
