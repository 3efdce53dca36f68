import CNI
import NetTypes
import Testing
import Netlink
@testable import Nftables
@testable import Attach

@Suite struct MacSpoofScriptTests {
    let owner = try! NftElementOwner(network: "cbr", containerID: "abc123", ifname: "eth0", for: "test")
    let mac = MACAddress("02:42:AC:11:00:02")!

    /// The quick ADD (now a netlink batch): the port's two elements, one message per set.
    @Test func quickSetUpCreatesThePortsTwoElements() {
        let changes = NftKernelChanges.create(MacSpoofRuleset.elements(port: "veth0a1b2c3d", mac: mac), comment: owner.comment)
        #expect(changes.map(\.operation) == [
            "create element in set bridge swift_cni_macspoof guarded", "create element in set bridge swift_cni_macspoof allowed",
        ])
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

    /// Keys as the kernel lists them: ours decode, an unsafe port name, a short key and a
    /// foreign set are skipped.
    @Test func kernelElementsDecodeOursAndSkipTheRest() {
        let guarded = MacSpoofRuleset.set(named: "guarded"), allowed = MacSpoofRuleset.set(named: "allowed")
        let port = NftablesKey.interfaceName("veth0000abcd")
        #expect(MacSpoofElement(set: guarded, element: NftablesElement(key: port)) == .guarded(port: "veth0000abcd"))
        #expect(MacSpoofElement(set: allowed, element: NftablesElement(key: NftablesKey.concatenation([port, mac.bytes])))
                == .allowed(port: "veth0000abcd", mac: mac))
        #expect(MacSpoofElement(set: guarded, element: NftablesElement(key: NftablesKey.interfaceName("bad\" name"))) == nil)
        #expect(MacSpoofElement(set: allowed, element: NftablesElement(key: port)) == nil)
        #expect(MacSpoofElement(set: MacSpoofRuleset.set(named: "foreign"), element: NftablesElement(key: port)) == nil)
        for element in MacSpoofRuleset.elements(port: "veth0000abcd", mac: mac) {
            #expect(MacSpoofElement(set: element.nftablesSet, element: element.nftablesElement(comment: "c")) == element)
        }
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
        let check = MacSpoofCheck(nft: NftCommand(argv: ["/nonexistent/nft"]), kernel: Self.noKernel, lock: Self.noLock)
        #expect(throws: PluginError.self) { try check.setUp(network: "n", containerID: "c", ifname: "eth0", port: text, mac: mac) }
        #expect(throws: PluginError.self) { try check.setUp(network: "n", containerID: text, ifname: "eth0", port: "v", mac: mac) }
        #expect(throws: PluginError.self) { try check.tearDown(network: text, containerID: "c", ifname: "eth0") }
    }

    /// Neither nft nor the kernel may be reached by these tests (the machine's own ruleset).
    static let noKernel = NftablesConnection { throw PluginError(.failed, "this test must not reach nf_tables") }
    static let noLock = NftablesLock.namespace(path: "/nonexistent/netns")

    @Test func ownerErrorsNameTheMacSpoofCheck() {
        do {
            try MacSpoofCheck(nft: NftCommand(argv: ["/nonexistent/nft"]), kernel: Self.noKernel, lock: Self.noLock).tearDown(network: "n", containerID: "c;", ifname: "eth0")
            Issue.record("expected a refusal")
        } catch let error as PluginError {
            #expect(error.kind == .invalidEnvironment)
            #expect(error.message.contains("MAC spoof check"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
