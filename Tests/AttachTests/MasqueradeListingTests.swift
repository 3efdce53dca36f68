import Testing
import NetTypes
import Netlink
@testable import Nftables
@testable import Attach

/// Masquerade elements read back from the kernel's keys (the GETSETELEM dump): ours decode,
/// anything we could not have written is skipped.
@Suite struct MasqueradeListingTests {
    let exempt4 = MasqueradeRuleset.set(named: "exempt4")

    func exemption(_ address: String, from first: String, to last: String) -> NftablesElement {
        let address = IPAddress(address)!.bytes
        return NftablesElement(key: NftablesKey.concatenation([address, IPAddress(first)!.bytes]),
                               keyEnd: NftablesKey.concatenation([address, IPAddress(last)!.bytes]))
    }

    @Test func elementsRoundTripThroughTheKernelEncoding() {
        let elements = MasqueradeRuleset.elements(for: [IPPrefix("10.22.0.5/16")!, IPPrefix("fd00::5/64")!,
                                                        IPPrefix("10.31.0.5/0")!, IPPrefix("10.30.0.5/32")!])
        for element in elements {
            #expect(MasqueradeElement(set: element.nftablesSet, element: element.nftablesElement(comment: nil)) == element)
        }
    }

    @Test func rangesThatAreNoSubnetAndWrongWidthsAreSkipped() {
        #expect(MasqueradeElement(set: exempt4, element: exemption("10.32.0.5", from: "10.0.0.1", to: "10.0.0.9")) == nil)
        #expect(MasqueradeElement(set: exempt4, element: exemption("10.22.0.5", from: "10.22.0.0", to: "10.22.255.255"))
                == .exemption(IPAddress("10.22.0.5")!, IPPrefix("10.22.0.0/16")!))
        let v4 = NftablesElement(key: IPAddress("10.0.0.1")!.bytes)
        #expect(MasqueradeElement(set: MasqueradeRuleset.set(named: "masq6"), element: v4) == nil)
        #expect(MasqueradeElement(set: MasqueradeRuleset.set(named: "masq4"), element: v4) == .source(IPAddress("10.0.0.1")!))
        #expect(MasqueradeElement(set: MasqueradeRuleset.set(named: "foreign"), element: v4) == nil)
    }

    @Test func selectsEntriesByOwner() throws {
        let owner = try MasqueradeOwner(network: "cbr", containerID: "a", ifname: "eth0")
        let listing = MasqueradeListing(entries: [
            .init(element: .source(IPAddress("10.22.0.5")!), comment: "cbr/a/eth0"),
            .init(element: .source(IPAddress("10.22.0.6")!), comment: nil),
            .init(element: .source(IPAddress("10.22.0.7")!), comment: "cbr/b/eth0"),
        ], ruleCount: 2)
        #expect(listing.entries(of: owner).map(\.element) == [.source(IPAddress("10.22.0.5")!)])
    }
}
