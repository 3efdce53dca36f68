import Glibc
import NetTypes
import Testing
@testable import Netlink

/// Addresses, routes and batches against a real kernel, in throwaway namespaces (root only).
@Suite(.enabled(if: NamespaceSandbox.isAvailable, "needs root to create network namespaces"))
struct PrivilegedAddressRouteTests {
    /// A namespace with an up bridge "br0" holding 10.22.0.1/16.
    private func bridgedSandbox() throws -> (NamespaceSandbox, Link) {
        let sandbox = try NamespaceSandbox()
        try sandbox.socket.createBridge(name: "br0")
        let bridge = try #require(try sandbox.socket.link(named: "br0"))
        try sandbox.socket.setLink(index: bridge.index, up: true)
        try sandbox.socket.addAddress(IPPrefix("10.22.0.1/16")!, index: bridge.index)
        return (sandbox, bridge)
    }

    @Test func addressesAddListDelete() throws {
        let (sandbox, bridge) = try bridgedSandbox()
        let socket = sandbox.socket
        try socket.addAddress(IPPrefix("fd00:22::1/64")!, index: bridge.index, noDAD: true)

        let v4 = try socket.addresses(family: .v4, index: bridge.index)
        #expect(v4.map(\.prefix) == [IPPrefix("10.22.0.1/16")!])
        let v6 = try socket.addresses(family: .v6, index: bridge.index)
        let global = try #require(v6.first { $0.prefix == IPPrefix("fd00:22::1/64")! })
        #expect(global.flags.contains(.noDAD) && !global.flags.contains(.tentative))
        #expect(global.scope == .universe)

        let again = #expect(throws: NetlinkError.self) {
            try socket.addAddress(IPPrefix("10.22.0.1/16")!, index: bridge.index)
        }
        #expect(again?.errno == EEXIST)

        try socket.deleteAddress(IPPrefix("10.22.0.1/16")!, index: bridge.index)
        #expect(try socket.addresses(family: .v4, index: bridge.index).isEmpty)
        #expect(try socket.addresses(index: bridge.index).contains { $0.prefix == IPPrefix("fd00:22::1/64")! })
    }

    @Test func routesAddReplaceListDelete() throws {
        let (sandbox, bridge) = try bridgedSandbox()
        let socket = sandbox.socket
        var route = Route(destination: IPPrefix("10.30.0.0/16")!, gateway: IPAddress("10.22.0.254"),
                          outputIndex: bridge.index, priority: 100, mtu: 1350)
        try socket.addRoute(route)
        #expect(try socket.routes(family: .v4).contains(route))

        route.gateway = IPAddress("10.22.0.253")
        try socket.addRoute(route, replace: true)
        let routes = try socket.routes(family: .v4).filter { $0.destination == route.destination }
        #expect(routes == [route])

        let onlink = Route(destination: IPPrefix("10.244.1.0/24")!, gateway: IPAddress("10.244.1.0"),
                           outputIndex: bridge.index, onlink: true)
        try socket.addRoute(onlink)
        #expect(try socket.routes(family: .v4).contains(onlink))

        let connected = try socket.routes(family: .v4).first { $0.destination == IPPrefix("10.22.0.0/16")! }
        #expect(connected?.scope == .link && connected?.routeProtocol == .kernel)

        try socket.deleteRoute(route)
        #expect(!(try socket.routes(family: .v4)).contains { $0.destination == route.destination })
        let gone = #expect(throws: NetlinkError.self) { try socket.deleteRoute(route) }
        #expect(gone?.errno == ESRCH)
    }

    @Test func batchReportsEachOutcomeWithKernelText() throws {
        let (sandbox, bridge) = try bridgedSandbox()
        let unreachableGateway = Route(destination: IPPrefix("10.50.0.0/16")!, gateway: IPAddress("192.0.2.1"),
                                       outputIndex: bridge.index)
        let outcomes = try sandbox.socket.perform([
            .createBridge(name: "br-a"),
            .createBridge(name: "br0"),
            .addRoute(unreachableGateway),
            .addAddress(IPPrefix("10.23.0.1/24")!, index: bridge.index),
        ])
        #expect(outcomes.count == 4)
        #expect((try? outcomes[0].get()) != nil)
        guard case .failure(let duplicate) = outcomes[1], case .failure(let unreachable) = outcomes[2] else {
            Issue.record("expected failures for requests 1 and 2, got \(outcomes)")
            return
        }
        #expect(duplicate.errno == EEXIST && duplicate.operation == "create bridge br0")
        #expect(unreachable.errno == ENETUNREACH)
        #expect(unreachable.kernelMessage?.isEmpty == false)
        #expect(unreachable.description.contains("kernel: "))
        #expect((try? outcomes[3].get()) != nil)
        // Not atomic: the requests around the failures took effect.
        #expect(try sandbox.socket.link(named: "br-a") != nil)
        #expect(try sandbox.socket.addresses(family: .v4, index: bridge.index).count == 2)
    }
}
