import Glibc
import NetTypes
import Testing
@testable import Netlink

/// NftablesSocket against the real kernel, read back by nft itself, each test in its own
/// `nft-<pid>-<n>` namespace.
@Suite(.enabled(if: NftablesNamespace.isAvailable, "needs root, ip and nft"))
struct PrivilegedNftablesTests {
    let skeleton = """
    add table inet t
    add chain inet t post { type nat hook postrouting priority srcnat; policy accept; }
    add set inet t masq4 { type ipv4_addr; }
    add rule inet t post ip saddr @masq4 masquerade
    add set inet t exempt6 { type ipv6_addr . ipv6_addr; flags interval; }
    add table bridge b
    add set bridge b allowed { type ifname . ether_addr; }
    """
    let masq4 = NftablesSet(family: .inet, table: "t", name: "masq4")
    let exempt6 = NftablesSet(family: .inet, table: "t", name: "exempt6")
    let allowed = NftablesSet(family: .bridge, table: "b", name: "allowed")

    var elements: (NftablesElement, NftablesElement, NftablesElement) {
        let address = IPAddress("fd00:22::5")!, subnet = IPPrefix("fd00:22::/64")!
        return (
            NftablesElement(key: NftablesKey.address(IPAddress("10.22.0.5")!), comment: "cbr/a/eth0"),
            NftablesElement(key: NftablesKey.concatenation([address.bytes, subnet.address.bytes]),
                            keyEnd: NftablesKey.concatenation([address.bytes, subnet.lastAddress.bytes]), comment: "cbr/a/eth0"),
            NftablesElement(key: NftablesKey.concatenation([NftablesKey.interfaceName("veth1234"),
                                                            NftablesKey.mac(MACAddress("02:42:ac:11:00:02")!)]), comment: "cbr/a/eth0"))
    }

    /// The skeleton made by nft, then the three elements created in one batch.
    func populated(_ ns: NftablesNamespace) throws -> (NftablesElement, NftablesElement, NftablesElement) {
        #expect(ns.nft(skeleton))
        let (a, b, c) = elements
        try ns.socket.commit([.createSetElements([a], in: masq4), .createSetElements([b], in: exempt6),
                              .createSetElements([c], in: allowed)])
        return (a, b, c)
    }

    @Test func missingTableIsENOENT() throws {
        let ns = try NftablesNamespace()
        defer { ns.remove() }
        let failure = #expect(throws: NetlinkError.self) {
            try ns.socket.commit([.createSetElements([elements.0], in: masq4)])
        }
        #expect(failure?.errno == ENOENT)
        #expect(#expect(throws: NetlinkError.self) { try ns.socket.elements(of: masq4) }?.errno == ENOENT)
    }

    @Test func oneBatchAcrossTablesReadBackByNft() throws {
        let ns = try NftablesNamespace()
        defer { ns.remove() }
        let (a, b, c) = try populated(ns)
        #expect(ns.list("set inet t masq4").contains("elements = { 10.22.0.5 comment \"cbr/a/eth0\" }"))
        #expect(ns.list("set inet t exempt6").contains("elements = { fd00:22::5 . fd00:22::/64 comment \"cbr/a/eth0\" }"))
        #expect(ns.list("set bridge b allowed").contains("elements = { \"veth1234\" . 02:42:ac:11:00:02 comment \"cbr/a/eth0\" }"))
        #expect(try ns.socket.elements(of: masq4) == [a])
        #expect(try ns.socket.elements(of: exempt6) == [b])
        #expect(try ns.socket.elements(of: allowed) == [c])
        #expect(try ns.socket.ruleCount(family: .inet, table: "t", chain: "post") == 1)
    }

    @Test func transactionIsAllOrNothing() throws {
        let ns = try NftablesNamespace()
        defer { ns.remove() }
        #expect(ns.nft(skeleton))
        let (a, b, _) = elements
        try ns.socket.commit([.createSetElements([a], in: masq4)])
        let failure = #expect(throws: NetlinkError.self) {
            try ns.socket.commit([.createSetElements([b], in: exempt6), .createSetElements([a], in: masq4)])
        }
        #expect(failure?.errno == EEXIST)
        #expect(try ns.socket.elements(of: exempt6).isEmpty)
        // The socket stays usable after a refused batch.
        try ns.socket.commit([.addSetElements([a.withoutComment], in: masq4)])
        #expect(try ns.socket.elements(of: masq4) == [a])
    }

    /// Add-then-delete deletes present and absent elements alike, and the ack comes back
    /// without the grace-period wait nft pays when it closes its socket.
    @Test func idempotentDeleteIsQuick() throws {
        let ns = try NftablesNamespace()
        defer { ns.remove() }
        let (a, b, c) = try populated(ns)
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        try ns.socket.commit([.addSetElements([a.withoutComment], in: masq4), .deleteSetElements([a], in: masq4),
                              .addSetElements([b.withoutComment], in: exempt6), .deleteSetElements([b], in: exempt6),
                              .addSetElements([c.withoutComment], in: allowed), .deleteSetElements([c], in: allowed)])
        clock_gettime(CLOCK_MONOTONIC, &end)
        let milliseconds = Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1e6
        #expect(milliseconds < 5, "delete ack took \(milliseconds) ms")
        #expect(try ns.socket.elements(of: masq4).isEmpty)
        #expect(try ns.socket.elements(of: allowed).isEmpty)
        // Again, with everything gone already.
        try ns.socket.commit([.addSetElements([a], in: masq4), .deleteSetElements([a], in: masq4)])
        #expect(try ns.socket.elements(of: exempt6).isEmpty)
    }
}
