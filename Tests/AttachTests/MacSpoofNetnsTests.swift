import CNI
import NetTypes
import Testing
@testable import Nftables
@testable import Attach

/// The MAC spoof check against the real kernel and nft, each test in its own `msc-<pid>-…`
/// network namespace (deleted also when the test fails).
@Suite(.enabled(if: MasqueradeFixture.privileged, "needs root, ip and nft"))
struct MacSpoofNetnsTests {
    let macA = MACAddress("02:00:00:00:00:0a")!
    let macB = MACAddress("02:00:00:00:00:0b")!

    private func withCheck(_ body: (MacSpoofCheck, String) throws -> Void) throws {
        try MasqueradeFixture.withNamespaces(prefix: "msc") { ns in
            try body(MasqueradeFixture.macSpoofCheck(in: ns[0]), ns[0])
        }
    }

    @Test func setUpAddsCommentedElementsAndVerifies() throws {
        try withCheck { check, _ in
            try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            try check.verify(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            try check.verify(network: "cbr", containerID: "a", ifname: "eth0", port: nil, mac: macA)
            let listing = try #require(try check.list())
            #expect(listing.ruleCount == 1)
            #expect(Set(listing.entries) == [
                .init(element: .guarded(port: "vetha"), comment: "cbr/a/eth0"),
                .init(element: .allowed(port: "vetha", mac: macA), comment: "cbr/a/eth0"),
            ])
            #expect(throws: PluginError.self) {
                try check.verify(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macB)
            }
            #expect(throws: PluginError.self) {
                try check.verify(network: "cbr", containerID: "b", ifname: "eth0", port: nil, mac: macA)
            }
        }
    }

    @Test func laterSetUpsOnlyAddElements() throws {
        try withCheck { check, ns in
            let chain = { try MasqueradeFixture.inside(ns, [MasqueradeFixture.nft!, "-a", "list", "chain", "bridge", "swift_cni_macspoof", "prerouting"]) }
            try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            let before = try chain()
            try check.setUp(network: "cbr", containerID: "b", ifname: "eth0", port: "vethb", mac: macB)
            #expect(try chain() == before, "the quick path must not replace the rule (its handle would change)")
            #expect(try #require(try check.list()).entries.count == 4)
        }
    }

    @Test func repeatedSetUpKeepsOneRuleAndOneCopy() throws {
        try withCheck { check, _ in
            for _ in 0..<3 { try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA) }
            let listing = try #require(try check.list())
            #expect(listing.ruleCount == 1)
            #expect(listing.entries.count == 2)
        }
    }

    /// A DEL that never came left a port's elements; the veth name was then drawn again.
    @Test func setUpTakesOverAReusedPortName() throws {
        try withCheck { check, _ in
            try check.setUp(network: "cbr", containerID: "old", ifname: "eth0", port: "vethx", mac: macA)
            try check.setUp(network: "cbr", containerID: "new", ifname: "eth0", port: "vethx", mac: macB)
            #expect(Set(try #require(try check.list()).entries) == [
                .init(element: .guarded(port: "vethx"), comment: "cbr/new/eth0"),
                .init(element: .allowed(port: "vethx", mac: macB), comment: "cbr/new/eth0"),
            ])
            try check.tearDown(network: "cbr", containerID: "old", ifname: "eth0")
            try check.verify(network: "cbr", containerID: "new", ifname: "eth0", port: "vethx", mac: macB)
        }
    }

    @Test func tearDownFindsElementsByCommentAlone() throws {
        try withCheck { check, _ in
            try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            try check.setUp(network: "cbr", containerID: "b", ifname: "eth0", port: "vethb", mac: macB)
            try check.tearDown(network: "cbr", containerID: "a", ifname: "eth0")
            let listing = try #require(try check.list())
            #expect(listing.entries.count == 2)
            #expect(listing.entries.allSatisfy { $0.comment == "cbr/b/eth0" })
            try check.tearDown(network: "cbr", containerID: "a", ifname: "eth0")  // repeated DEL
            try check.verify(network: "cbr", containerID: "b", ifname: "eth0", port: "vethb", mac: macB)
        }
    }

    @Test func tearDownAndGarbageCollectWithoutATableSucceed() throws {
        try withCheck { check, _ in
            try check.tearDown(network: "cbr", containerID: "a", ifname: "eth0")
            try check.garbageCollect(network: "cbr", keeping: [])
            #expect(try check.list() == nil)
            #expect(throws: PluginError.self) {
                try check.verify(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            }
        }
    }

    @Test func garbageCollectRemovesOnlyInvalidAttachmentsOfTheNetwork() throws {
        try withCheck { check, _ in
            try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vetha", mac: macA)
            try check.setUp(network: "cbr", containerID: "b", ifname: "eth0", port: "vethb", mac: macB)
            try check.setUp(network: "other", containerID: "c", ifname: "eth0", port: "vethc", mac: macA)
            try check.garbageCollect(network: "cbr", keeping: [Attachment(containerID: "b", ifname: "eth0")])
            let owners = Set(try #require(try check.list()).entries.compactMap(\.comment))
            #expect(owners == ["cbr/b/eth0", "other/c/eth0"])
        }
    }

    /// Real frames: a container behind a bridge port pings the bridge's address until its
    /// interface takes another MAC; after tear-down it gets through again.
    @Test func dropsFramesWithAnotherSourceMAC() throws {
        try MasqueradeFixture.withNamespaces(2, prefix: "msc") { ns in
            let (node, container) = (ns[0], ns[1])
            let ip = MasqueradeFixture.ip
            try MasqueradeFixture.run(ip, ["-n", node, "link", "add", "br0", "type", "bridge"])
            try MasqueradeFixture.run(ip, ["-n", container, "link", "add", "eth0", "address", "\(macA)", "type", "veth",
                                           "peer", "name", "vethp", "netns", node])
            try MasqueradeFixture.run(ip, ["-n", node, "link", "set", "vethp", "master", "br0", "up"])
            try MasqueradeFixture.run(ip, ["-n", node, "addr", "add", "10.9.0.1/24", "dev", "br0"])
            try MasqueradeFixture.run(ip, ["-n", node, "link", "set", "br0", "up"])
            try MasqueradeFixture.run(ip, ["-n", container, "addr", "add", "10.9.0.2/24", "dev", "eth0"])
            try MasqueradeFixture.run(ip, ["-n", container, "link", "set", "eth0", "up"])
            let check = MasqueradeFixture.macSpoofCheck(in: node)
            let ping = { try MasqueradeFixture.succeeds(in: container, ["ping", "-c1", "-W1", "-q", "10.9.0.1"]) }

            try check.setUp(network: "cbr", containerID: "a", ifname: "eth0", port: "vethp", mac: macA)
            #expect(try ping() || ping(), "the allowed MAC passes (one retry for the bridge port's forwarding delay)")
            try MasqueradeFixture.run(ip, ["-n", container, "link", "set", "eth0", "address", "\(macB)"])
            try MasqueradeFixture.run(ip, ["-n", container, "neigh", "flush", "dev", "eth0"])
            #expect(try !ping(), "another source MAC is dropped")
            try check.tearDown(network: "cbr", containerID: "a", ifname: "eth0")
            #expect(try ping() || ping(), "no check after tear-down")
        }
    }
}
