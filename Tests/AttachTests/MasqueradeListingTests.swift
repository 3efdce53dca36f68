import Testing
import NetTypes
@testable import Attach

@Suite struct MasqueradeListingTests {
    /// Shaped like nft 1.0.6's `-j list table`: commented and bare elements, a /32 exemption
    /// listed as a bare address, a /0 prefix, a foreign set and a non-address value.
    static let json = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
         {"table": {"family": "inet", "name": "swift_cni", "handle": 1}},
         {"set": {"family": "inet", "name": "masq4", "table": "swift_cni", "type": "ipv4_addr", "handle": 2,
                  "elem": [{"elem": {"val": "10.22.0.5", "comment": "cbr/a/eth0"}}, "10.22.0.6", 7]}},
         {"set": {"family": "inet", "name": "exempt4", "table": "swift_cni", "type": ["ipv4_addr", "ipv4_addr"],
                  "handle": 3, "flags": ["interval"], "elem": [
                    {"elem": {"val": {"concat": ["10.22.0.5", {"prefix": {"addr": "10.22.0.0", "len": 16}}]}, "comment": "cbr/a/eth0"}},
                    {"elem": {"val": {"concat": ["10.30.0.5", "10.30.0.5"]}, "comment": "cbr/b/eth0"}},
                    {"elem": {"val": {"concat": ["10.31.0.5", {"prefix": {"addr": "0.0.0.0", "len": 0}}]}, "comment": "other"}},
                    {"elem": {"val": {"concat": ["10.32.0.5", {"range": ["10.0.0.1", "10.0.0.9"]}]}}}]}},
         {"set": {"family": "inet", "name": "masq6", "table": "swift_cni", "type": "ipv6_addr", "handle": 4,
                  "elem": [{"elem": {"val": "fd00::5", "comment": "cbr/a/eth0"}}, {"elem": {"val": "10.0.0.1", "comment": "cbr/a/eth0"}}]}},
         {"set": {"family": "inet", "name": "exempt6", "table": "swift_cni", "type": ["ipv6_addr", "ipv6_addr"], "handle": 5}},
         {"set": {"family": "inet", "name": "foreign", "table": "swift_cni", "type": "ipv4_addr", "handle": 6, "elem": ["1.2.3.4"]}},
         {"chain": {"family": "inet", "table": "swift_cni", "name": "postrouting", "handle": 1, "type": "nat"}},
         {"rule": {"family": "inet", "table": "swift_cni", "chain": "postrouting", "handle": 8, "expr": [{"masquerade": null}]}},
         {"rule": {"family": "inet", "table": "swift_cni", "chain": "postrouting", "handle": 9, "expr": [{"masquerade": null}]}}]}
        """

    @Test func decodesOurElementsAndSkipsTheRest() throws {
        let listing = try MasqueradeListing(json: Array(Self.json.utf8))
        #expect(listing.ruleCount == 2)
        #expect(listing.entries == [
            .init(element: .source(IPAddress("10.22.0.5")!), comment: "cbr/a/eth0"),
            .init(element: .source(IPAddress("10.22.0.6")!), comment: nil),
            .init(element: .exemption(IPAddress("10.22.0.5")!, IPPrefix("10.22.0.0/16")!), comment: "cbr/a/eth0"),
            .init(element: .exemption(IPAddress("10.30.0.5")!, IPPrefix("10.30.0.5/32")!), comment: "cbr/b/eth0"),
            .init(element: .exemption(IPAddress("10.31.0.5")!, IPPrefix("0.0.0.0/0")!), comment: "other"),
            .init(element: .source(IPAddress("fd00::5")!), comment: "cbr/a/eth0"),
        ])
    }

    @Test func selectsEntriesByOwner() throws {
        let listing = try MasqueradeListing(json: Array(Self.json.utf8))
        let owner = try MasqueradeOwner(network: "cbr", containerID: "a", ifname: "eth0")
        #expect(listing.entries(of: owner).map(\.element) == [
            .source(IPAddress("10.22.0.5")!),
            .exemption(IPAddress("10.22.0.5")!, IPPrefix("10.22.0.0/16")!),
            .source(IPAddress("fd00::5")!),
        ])
    }

    @Test func emptyTableHasNoEntries() throws {
        let listing = try MasqueradeListing(json: Array(#"{"nftables": [{"metainfo": {"version": "1.0.6"}}]}"#.utf8))
        #expect(listing.entries.isEmpty)
        #expect(listing.ruleCount == 0)
    }

    @Test func malformedJSONThrows() {
        #expect(throws: (any Error).self) { try MasqueradeListing(json: Array("not json".utf8)) }
    }
}
