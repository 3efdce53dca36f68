import Glibc
import NetTypes
import Testing
@testable import Netlink

/// The kernel itself filters dumps by link and table (strict checking), in throwaway
/// namespaces (root only). The raw dumps are checked, not the typed calls, which filter again.
@Suite(.enabled(if: NamespaceSandbox.isAvailable, "needs root to create network namespaces"))
struct PrivilegedDumpFilterTests {
    @Test func kernelReturnsOnlyTheAskedLinkAndTable() throws {
        let sandbox = try NamespaceSandbox()
        let socket = sandbox.socket
        try socket.createVethPair(name: "fa", peerName: "fb")
        let a = try #require(try socket.link(named: "fa")), b = try #require(try socket.link(named: "fb"))
        for (link, prefix, neighbour) in [(a, "10.61.0.1/24", "10.61.0.9"), (b, "10.62.0.1/24", "10.62.0.9")] {
            try socket.setLink(index: link.index, up: true)
            try socket.addAddress(IPPrefix(prefix)!, index: link.index)
            try socket.addNeighbour(IPAddress(neighbour)!, mac: MACAddress("02:00:00:00:00:09")!, index: link.index)
        }

        let addresses = try socket.dump(.dumpAddresses(family: .v4, index: a.index)).compactMap(InterfaceAddress.init)
        #expect(addresses.map(\.prefix) == [IPPrefix("10.61.0.1/24")!])
        let neighbours = try socket.dump(.dumpNeighbours(family: 2, index: b.index)).compactMap(Neighbour.init)
        #expect(!neighbours.isEmpty && neighbours.allSatisfy { $0.index == b.index })

        // The local table holds the links' own addresses; a main-table dump leaves them out.
        let main = try socket.dump(.dumpRoutes(family: .v4, table: Route.mainTable)).compactMap(Route.init)
        #expect(!main.isEmpty && main.allSatisfy { $0.table == Route.mainTable })

        // Gone links and missing tables still read as empty, as before the kernel filtered.
        #expect(try socket.addresses(index: 9999).isEmpty)
        #expect(try socket.routes(family: .v4, table: 1234).isEmpty)
        #expect(try socket.routes(table: 1234).isEmpty)
    }
}
