import Testing
import CNI
import NetTypes
@testable import Nftables
@testable import Attach

@Suite struct MasqueradeScriptTests {
    let owner = try! MasqueradeOwner(network: "cbr", containerID: "abc123", ifname: "eth0")

    /// The quick ADD (now a netlink batch): one `create element` per set, nothing else.
    @Test func quickSetUpCreatesOneMessagePerSet() {
        let changes = NftKernelChanges.create(MasqueradeRuleset.elements(for: [IPPrefix("10.22.0.5/16")!, IPPrefix("fd00::5/64")!]),
                                              comment: owner.comment)
        #expect(changes.map(\.operation) == [
            "create element in set inet swift_cni masq4", "create element in set inet swift_cni exempt4",
            "create element in set inet swift_cni masq6", "create element in set inet swift_cni exempt6",
        ])
    }

    /// DEL and GC: per set an `add` then a `delete` of the same keys, so an element that a
    /// concurrent DEL already removed does not fail the transaction.
    @Test func kernelDeleteAddsBeforeDeletingPerSet() {
        let changes = NftKernelChanges.delete([MasqueradeElement.source(IPAddress("10.0.0.2")!), .source(IPAddress("10.0.0.3")!),
                                               .exemption(IPAddress("10.0.0.2")!, IPPrefix("10.0.0.0/24")!)])
        #expect(changes.map(\.operation) == [
            "add 2 elements in set inet swift_cni masq4", "delete 2 elements in set inet swift_cni masq4",
            "add element in set inet swift_cni exempt4", "delete element in set inet swift_cni exempt4",
        ])
    }

    @Test func fullSetUpScriptIsSkeletonStaleRemovalThenClaims() {
        let script = MasqueradeRuleset.fullSetUpScript(
            owner, [IPPrefix("10.22.0.5/16")!, IPPrefix("fd00::5/64")!],
            removing: [.exemption(IPAddress("10.22.0.5")!, IPPrefix("10.22.0.0/24")!)])
        #expect(script == """
            add table inet swift_cni
            add chain inet swift_cni postrouting { type nat hook postrouting priority srcnat; policy accept; }
            add set inet swift_cni masq4 { type ipv4_addr; }
            add set inet swift_cni exempt4 { type ipv4_addr . ipv4_addr; flags interval; }
            add set inet swift_cni masq6 { type ipv6_addr; }
            add set inet swift_cni exempt6 { type ipv6_addr . ipv6_addr; flags interval; }
            flush chain inet swift_cni postrouting
            add rule inet swift_cni postrouting ip saddr @masq4 ip saddr . ip daddr != @exempt4 ip daddr != 224.0.0.0/4 masquerade
            add rule inet swift_cni postrouting ip6 saddr @masq6 ip6 saddr . ip6 daddr != @exempt6 ip6 daddr != ff00::/8 masquerade
            add element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/24 }
            delete element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/24 }
            add element inet swift_cni masq4 { 10.22.0.5 }
            delete element inet swift_cni masq4 { 10.22.0.5 }
            add element inet swift_cni masq4 { 10.22.0.5 comment "cbr/abc123/eth0" }
            add element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 }
            delete element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 }
            add element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 comment "cbr/abc123/eth0" }
            add element inet swift_cni masq6 { fd00::5 }
            delete element inet swift_cni masq6 { fd00::5 }
            add element inet swift_cni masq6 { fd00::5 comment "cbr/abc123/eth0" }
            add element inet swift_cni exempt6 { fd00::5 . fd00::/64 }
            delete element inet swift_cni exempt6 { fd00::5 . fd00::/64 }
            add element inet swift_cni exempt6 { fd00::5 . fd00::/64 comment "cbr/abc123/eth0" }

            """)
    }

    @Test func deleteScriptAddsBeforeDeletingSoItIsIdempotent() {
        let script = MasqueradeRuleset.deleteScript([.source(IPAddress("10.0.0.2")!),
                                                     .exemption(IPAddress("10.0.0.2")!, IPPrefix("10.0.0.0/24")!)])
        #expect(script == """
            add element inet swift_cni masq4 { 10.0.0.2 }
            delete element inet swift_cni masq4 { 10.0.0.2 }
            add element inet swift_cni exempt4 { 10.0.0.2 . 10.0.0.0/24 }
            delete element inet swift_cni exempt4 { 10.0.0.2 . 10.0.0.0/24 }

            """)
    }

    @Test func elementsAreDeduplicatedAndSubnetsMasked() {
        let elements = MasqueradeRuleset.elements(for: [IPPrefix("10.1.2.3/24")!, IPPrefix("10.1.2.3/24")!])
        #expect(elements == [.source(IPAddress("10.1.2.3")!), .exemption(IPAddress("10.1.2.3")!, IPPrefix("10.1.2.0/24")!)])
    }

    @Test(arguments: ["", "a b", "a\"b", "a;b", "a/b", "a\nb", "a}b", "a\\b", "ä"])
    func ownerRejectsUnsafeText(_ text: String) {
        #expect(throws: PluginError.self) { try MasqueradeOwner(network: text, containerID: "c", ifname: "eth0") }
        #expect(throws: PluginError.self) { try MasqueradeOwner(network: "n", containerID: text, ifname: "eth0") }
        #expect(throws: PluginError.self) { try MasqueradeOwner(network: "n", containerID: "c", ifname: text) }
    }

    @Test func ownerErrorKindsNameTheSource() {
        #expect(kind { try MasqueradeOwner(network: "a b", containerID: "c", ifname: "i") } == .invalidConfig)
        #expect(kind { try MasqueradeOwner(network: "n", containerID: "c;", ifname: "i") } == .invalidEnvironment)
    }

    @Test func ownerRejectsCommentsNftWouldRefuse() throws {
        let id = String(repeating: "f", count: 64)
        _ = try MasqueradeOwner(network: String(repeating: "n", count: 58), containerID: id, ifname: "eth0")  // 128 characters
        #expect(kind { try MasqueradeOwner(network: String(repeating: "n", count: 59), containerID: id, ifname: "eth0") }
                == .invalidConfig)
    }

    @Test func commentRoundTripsAndForeignCommentsAreIgnored() {
        #expect(MasqueradeOwner(comment: "cbr/abc123/eth0") == owner)
        #expect(MasqueradeOwner(comment: "something else") == nil)
        #expect(MasqueradeOwner(comment: "a/b") == nil)
        #expect(MasqueradeOwner(comment: "a/b/c/d") == nil)
    }

    private func kind(_ body: () throws -> Any) -> PluginError.Kind? {
        do { _ = try body() } catch let error as PluginError { return error.kind } catch {}
        return nil
    }
}
