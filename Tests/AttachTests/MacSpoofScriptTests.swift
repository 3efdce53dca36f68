import CNI
import NetTypes
import Testing
@testable import Attach

@Suite struct MacSpoofScriptTests {
    let owner = try! NftElementOwner(network: "cbr", containerID: "abc123", ifname: "eth0", for: "test")
    let mac = MACAddress("02:42:AC:11:00:02")!

    @Test func quickSetUpScriptOnlyCreatesThePortsTwoElements() {
        #expect(MacSpoofRuleset.quickSetUpScript(owner, port: "veth0a1b2c3d", mac: mac) == """
            create element bridge swift_cni_macspoof guarded { "veth0a1b2c3d" comment "cbr/abc123/eth0" }
            create element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:42:ac:11:00:02 comment "cbr/abc123/eth0" }

            """)
    }

    @Test func fullSetUpScriptIsSkeletonStaleRemovalThenClaims() {
        let script = MacSpoofRuleset.fullSetUpScript(
            owner, port: "veth0a1b2c3d", mac: mac,
            removing: [.allowed(port: "veth0a1b2c3d", mac: MACAddress("02:00:00:00:00:09")!)])
        #expect(script == """
            add table bridge swift_cni_macspoof
            add chain bridge swift_cni_macspoof prerouting { type filter hook prerouting priority -300; policy accept; }
            add set bridge swift_cni_macspoof guarded { type ifname; }
            add set bridge swift_cni_macspoof allowed { type ifname . ether_addr; }
            flush chain bridge swift_cni_macspoof prerouting
            add rule bridge swift_cni_macspoof prerouting iifname @guarded iifname . ether saddr != @allowed drop
            add element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:00:00:00:00:09 }
            delete element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:00:00:00:00:09 }
            add element bridge swift_cni_macspoof guarded { "veth0a1b2c3d" }
            delete element bridge swift_cni_macspoof guarded { "veth0a1b2c3d" }
            add element bridge swift_cni_macspoof guarded { "veth0a1b2c3d" comment "cbr/abc123/eth0" }
            add element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:42:ac:11:00:02 }
            delete element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:42:ac:11:00:02 }
            add element bridge swift_cni_macspoof allowed { "veth0a1b2c3d" . 02:42:ac:11:00:02 comment "cbr/abc123/eth0" }

            """)
    }

    @Test func deleteScriptAddsBeforeDeletingSoItIsIdempotent() {
        #expect(MacSpoofRuleset.deleteScript(MacSpoofRuleset.elements(port: "vethx", mac: mac)) == """
            add element bridge swift_cni_macspoof guarded { "vethx" }
            delete element bridge swift_cni_macspoof guarded { "vethx" }
            add element bridge swift_cni_macspoof allowed { "vethx" . 02:42:ac:11:00:02 }
            delete element bridge swift_cni_macspoof allowed { "vethx" . 02:42:ac:11:00:02 }

            """)
    }

    /// Shaped like nft 1.0.6's `-j list table bridge swift_cni_macspoof`, plus values we must
    /// not act on: an unsafe port name, a non-MAC, a foreign set, a bare (comment-less) element.
    static let json = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
         {"table": {"family": "bridge", "name": "swift_cni_macspoof", "handle": 1}},
         {"set": {"family": "bridge", "name": "guarded", "table": "swift_cni_macspoof", "type": "ifname", "handle": 2,
                  "elem": [{"elem": {"val": "veth0000abcd", "comment": "cbr/a/eth0"}}, "vethbare", "bad\\" name"]}},
         {"set": {"family": "bridge", "name": "allowed", "table": "swift_cni_macspoof", "type": ["ifname", "ether_addr"],
                  "handle": 3, "elem": [
                    {"elem": {"val": {"concat": ["veth0000abcd", "02:42:ac:11:00:02"]}, "comment": "cbr/a/eth0"}},
                    {"elem": {"val": {"concat": ["veth0000abcd", "not-a-mac"]}, "comment": "cbr/a/eth0"}}]}},
         {"set": {"family": "bridge", "name": "foreign", "table": "swift_cni_macspoof", "type": "ifname", "handle": 5, "elem": ["x"]}},
         {"chain": {"family": "bridge", "table": "swift_cni_macspoof", "name": "prerouting", "handle": 1, "type": "filter",
                    "hook": "prerouting", "prio": -300, "policy": "accept"}},
         {"rule": {"family": "bridge", "table": "swift_cni_macspoof", "chain": "prerouting", "handle": 4, "expr": [{"drop": null}]}}]}
        """

    @Test func listingDecodesOurElementsAndSkipsTheRest() throws {
        let listing = try MacSpoofListing(json: Array(Self.json.utf8))
        #expect(listing.ruleCount == 1)
        #expect(listing.entries == [
            .init(element: .guarded(port: "veth0000abcd"), comment: "cbr/a/eth0"),
            .init(element: .guarded(port: "vethbare"), comment: nil),
            .init(element: .allowed(port: "veth0000abcd", mac: mac), comment: "cbr/a/eth0"),
        ])
        #expect(listing.entries.owned(by: try NftElementOwner(network: "cbr", containerID: "a", ifname: "eth0", for: "test")).count == 2)
    }

    @Test func garbageCollectionPicksOnlyAbandonedElementsOfTheNetwork() throws {
        let entries: [MacSpoofListing.Entry] = [
            .init(element: .guarded(port: "v1"), comment: "cbr/a/eth0"),
            .init(element: .guarded(port: "v2"), comment: "cbr/b/eth0"),
            .init(element: .guarded(port: "v3"), comment: "other/c/eth0"),
            .init(element: .guarded(port: "v4"), comment: nil),
        ]
        #expect(entries.abandoned(in: "cbr", keeping: [Attachment(containerID: "a", ifname: "eth0")]) == [.guarded(port: "v2")])
    }

    @Test(arguments: ["", "a b", "a\"b", "a;b", "a/b", "a}b", "ä"])
    func unsafeNamesAreRefusedBeforeAnyNftRuns(_ text: String) {
        let check = MacSpoofCheck(nft: NftCommand(argv: ["/nonexistent/nft"]))
        #expect(throws: PluginError.self) { try check.setUp(network: "n", containerID: "c", ifname: "eth0", port: text, mac: mac) }
        #expect(throws: PluginError.self) { try check.setUp(network: "n", containerID: text, ifname: "eth0", port: "v", mac: mac) }
        #expect(throws: PluginError.self) { try check.tearDown(network: text, containerID: "c", ifname: "eth0") }
    }

    @Test func ownerErrorsNameTheMacSpoofCheck() {
        do {
            try MacSpoofCheck(nft: NftCommand(argv: ["/nonexistent/nft"])).tearDown(network: "n", containerID: "c;", ifname: "eth0")
            Issue.record("expected a refusal")
        } catch let error as PluginError {
            #expect(error.kind == .invalidEnvironment)
            #expect(error.message.contains("MAC spoof check"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
