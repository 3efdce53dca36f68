import Glibc
import NetTypes
import Testing
@testable import Netlink

/// The VXLAN node agent's sequence against a real kernel, in a throwaway namespace (root only):
/// device, then per peer neighbour, FDB, onlink route.
@Suite(.enabled(if: NamespaceSandbox.isAvailable, "needs root to create network namespaces"))
struct PrivilegedOverlayTests {
    @Test func vxlanPeerProgramming() throws {
        let sandbox = try NamespaceSandbox()
        let socket = sandbox.socket
        try socket.createVethPair(name: "underlay", peerName: "underlay-peer")
        let underlay = try #require(try socket.link(named: "underlay"))
        try socket.addAddress(IPPrefix("192.168.1.1/24")!, index: underlay.index)
        try socket.setLink(index: underlay.index, up: true)

        let settings = VXLANSettings(vni: 1, local: IPAddress("192.168.1.1"), underlayIndex: underlay.index)
        try socket.createVXLAN(name: "flannel.1", settings, mtu: 1450)
        let vxlan = try #require(try socket.link(named: "flannel.1"))
        #expect(vxlan.kind == "vxlan" && vxlan.mtu == 1450)
        #expect(vxlan.vxlan == settings)
        try socket.setLink(index: vxlan.index, up: true)
        try socket.addAddress(IPPrefix("10.244.0.0/32")!, index: vxlan.index)

        let peerMac = MACAddress("02:00:00:00:00:0b")!
        let peerVTEP = IPAddress("192.168.1.2")!
        let outcomes = try socket.perform([
            .addNeighbour(IPAddress("10.244.1.0")!, mac: peerMac, index: vxlan.index, replace: true),
            .addFDBEntry(mac: peerMac, destination: peerVTEP, index: vxlan.index, mode: .append),
            .addRoute(Route(destination: IPPrefix("10.244.1.0/24")!, gateway: IPAddress("10.244.1.0"),
                            outputIndex: vxlan.index, onlink: true)),
        ])
        #expect(outcomes.allSatisfy { (try? $0.get()) != nil }, "\(outcomes)")

        let neighbours = try socket.neighbours(family: .v4, index: vxlan.index)
        #expect(neighbours.contains { $0.address == IPAddress("10.244.1.0") && $0.mac == peerMac && $0.isPermanent })
        let fdb = try socket.fdbEntries(index: vxlan.index)
        #expect(fdb.contains { $0.mac == peerMac && $0.destination == peerVTEP && $0.isPermanent })

        // A peer whose VTEP moved: replace leaves exactly one destination for the MAC.
        let movedVTEP = IPAddress("192.168.1.3")!
        try socket.addFDBEntry(mac: peerMac, destination: movedVTEP, index: vxlan.index, mode: .replace)
        let destinations = try socket.fdbEntries(index: vxlan.index).filter { $0.mac == peerMac }.map(\.destination)
        #expect(destinations == [movedVTEP])

        try socket.deleteFDBEntry(mac: peerMac, destination: movedVTEP, index: vxlan.index)
        #expect(!(try socket.fdbEntries(index: vxlan.index)).contains { $0.mac == peerMac })
        try socket.deleteNeighbour(IPAddress("10.244.1.0")!, index: vxlan.index)
        #expect(!(try socket.neighbours(family: .v4, index: vxlan.index)).contains { $0.address == IPAddress("10.244.1.0") })
        let missing = #expect(throws: NetlinkError.self) {
            try socket.deleteNeighbour(IPAddress("10.244.1.0")!, index: vxlan.index)
        }
        #expect(missing?.errno == ENOENT)
    }
}
