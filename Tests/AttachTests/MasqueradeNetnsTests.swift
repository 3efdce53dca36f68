import CNI
import NetTypes
import Testing
@testable import Nftables
@testable import Attach

/// Masquerade against the real kernel and nft, each test in its own network namespace.
@Suite(.enabled(if: MasqueradeFixture.privileged, "needs root, ip and nft"))
struct MasqueradeNetnsTests {
    let a = [IPPrefix("10.22.0.5/16")!, IPPrefix("fd00:22::5/64")!]
    let b = [IPPrefix("10.22.0.6/16")!]

    @Test func setUpAddsCommentedElementsAndVerifies() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            try masq.verify(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            let listing = try #require(try masq.list())
            #expect(Set(listing.entries) == [
                .init(element: .source(IPAddress("10.22.0.5")!), comment: "cbr/a/eth0"),
                .init(element: .exemption(IPAddress("10.22.0.5")!, IPPrefix("10.22.0.0/16")!), comment: "cbr/a/eth0"),
                .init(element: .source(IPAddress("fd00:22::5")!), comment: "cbr/a/eth0"),
                .init(element: .exemption(IPAddress("fd00:22::5")!, IPPrefix("fd00:22::/64")!), comment: "cbr/a/eth0"),
            ])
            #expect(throws: PluginError.self) {
                try masq.verify(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            }
        }
    }

    @Test func repeatedSetUpKeepsOneCopyOfTheRules() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            for _ in 0..<3 { try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: a) }
            try masq.setUp(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            let listing = try #require(try masq.list())
            #expect(listing.ruleCount == MasqueradeRuleset.rules.count)
            #expect(listing.entries.count == 6)
            let rules = try MasqueradeFixture.inside(ns[0], [MasqueradeFixture.nft!, "list", "chain", "inet", "swift_cni", "postrouting"])
            #expect(rules.split(separator: "\n").filter { $0.hasSuffix("masquerade") }.count == 2)
        }
    }

    @Test func laterSetUpsLeaveTheRulesAlone() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            let rules = { try MasqueradeFixture.inside(ns[0], [MasqueradeFixture.nft!, "-a", "list", "chain", "inet", "swift_cni", "postrouting"]) }
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            let before = try rules()
            try masq.setUp(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            #expect(try rules() == before, "the quick path must not replace rules (handles would change)")
            try masq.verify(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
        }
    }

    @Test func setUpWithoutAddressesDoesNothing() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: [])
            #expect(try masq.list() == nil)
        }
    }

    @Test func tearDownFindsElementsByCommentAlone() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            try masq.setUp(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            try masq.tearDown(network: "cbr", containerID: "a", ifname: "eth0", addresses: nil)
            let listing = try #require(try masq.list())
            #expect(listing.entries.allSatisfy { $0.comment == "cbr/b/eth0" })
            #expect(listing.entries.count == 2)
            try masq.verify(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            // Repeated DEL succeeds.
            try masq.tearDown(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
        }
    }

    @Test func tearDownAndGarbageCollectWithoutATableSucceed() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.tearDown(network: "cbr", containerID: "a", ifname: "eth0", addresses: nil)
            try masq.garbageCollect(network: "cbr", keeping: [])
            #expect(try masq.list() == nil)
            #expect(throws: PluginError.self) {
                try masq.verify(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            }
        }
    }

    @Test func garbageCollectRemovesOnlyInvalidAttachmentsOfTheNetwork() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: a)
            try masq.setUp(network: "cbr", containerID: "b", ifname: "eth0", addresses: b)
            try masq.setUp(network: "other", containerID: "c", ifname: "eth0", addresses: [IPPrefix("10.99.0.2/24")!])
            try masq.garbageCollect(network: "cbr", keeping: [Masquerade.Attachment(containerID: "b", ifname: "eth0")])
            let owners = Set(try #require(try masq.list()).entries.compactMap(\.comment))
            #expect(owners == ["cbr/b/eth0", "other/c/eth0"])
        }
    }

    /// A crashed owner left its elements; IPAM then gave the address to "new", with a wider or
    /// narrower subnet (the exemptions overlap in the interval set, so the stale one must go).
    @Test(arguments: [("10.22.0.5/16", "10.22.0.5/24"), ("10.22.0.5/24", "10.22.0.5/16")])
    func setUpTakesOverAStaleOwnersAddress(old: String, new: String) throws {
        let (old, new) = (IPPrefix(old)!, IPPrefix(new)!)
        try MasqueradeFixture.withNamespaces { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            try masq.setUp(network: "cbr", containerID: "old", ifname: "eth0", addresses: [old])
            try masq.setUp(network: "cbr", containerID: "new", ifname: "eth0", addresses: [new])
            let listing = try #require(try masq.list())
            #expect(Set(listing.entries) == [
                .init(element: .source(new.address), comment: "cbr/new/eth0"),
                .init(element: .exemption(new.address, new.network), comment: "cbr/new/eth0"),
            ])
            // The old owner's late DEL no longer touches them.
            try masq.tearDown(network: "cbr", containerID: "old", ifname: "eth0", addresses: nil)
            try masq.verify(network: "cbr", containerID: "new", ifname: "eth0", addresses: [new])
        }
    }

    @Test func nftRefusalBecomesFailedErrorWithStderr() throws {
        try MasqueradeFixture.withNamespaces { ns in
            let nft = NftCommand(argv: [MasqueradeFixture.ip, "netns", "exec", ns[0], MasqueradeFixture.nft!])
            do {
                try nft.apply("add rule inet swift_cni nowhere accept\n", what: "a bad script")
                Issue.record("expected a refusal")
            } catch let failure as NftFailure {
                let error = failure.pluginError
                #expect(error.kind == .failed)
                #expect(error.message.hasPrefix("a bad script failed"))
                #expect(error.details?.contains("No such file or directory") == true)
            }
        }
    }
}
