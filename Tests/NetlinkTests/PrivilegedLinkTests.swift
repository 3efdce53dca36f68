import Glibc
import NetTypes
import Testing
@testable import Netlink

/// Real kernel round trips, each in its own throwaway namespace (root only).
@Suite(.enabled(if: NamespaceSandbox.isAvailable, "needs root to create network namespaces"))
struct PrivilegedLinkTests {
    @Test func bridgeAndVethWithPeerInAnotherNamespace() throws {
        let host = try NamespaceSandbox()
        let container = try NamespaceSandbox()
        let socket = host.socket

        try socket.createBridge(name: "br-test", mtu: 1400)
        let bridge = try #require(try socket.link(named: "br-test"))
        #expect(bridge.kind == "bridge" && bridge.mtu == 1400 && !bridge.isUp)
        #expect(bridge.vlanFiltering == false)
        #expect(try socket.link(index: bridge.index)?.name == "br-test")

        let duplicate = #expect(throws: NetlinkError.self) { try socket.createBridge(name: "br-test") }
        #expect(duplicate?.errno == EEXIST)

        let peerMac = MACAddress("02:00:00:00:aa:01")!
        let echoed = try socket.createVethPair(name: "veth-host", peerName: "eth0", peerNamespaceFD: container.namespaceFD,
                                               mtu: 1400, mac: MACAddress("02:00:00:00:bb:01"), peerMac: peerMac)
        let hostEnd = try #require(try socket.link(named: "veth-host"))
        // The create's echo is the new link as a get reports it; IFLA_LINK names the peer.
        #expect(echoed?.index == hostEnd.index && echoed?.mac == hostEnd.mac && echoed?.mtu == 1400)
        #expect(hostEnd.kind == "veth" && hostEnd.mtu == 1400 && hostEnd.mac == MACAddress("02:00:00:00:bb:01"))
        #expect(try socket.link(named: "eth0") == nil)
        let containerEnd = try #require(try container.socket.link(named: "eth0"))
        #expect(containerEnd.kind == "veth" && containerEnd.mac == peerMac && containerEnd.mtu == 1400)
        #expect(echoed?.parentIndex == containerEnd.index)

        try socket.setLink(index: hostEnd.index, up: true, masterIndex: bridge.index, promiscuous: true)
        try socket.setLink(index: bridge.index, up: true)
        let enslaved = try #require(try socket.link(index: hostEnd.index))
        #expect(enslaved.isUp && enslaved.isPromiscuous && enslaved.masterIndex == bridge.index)
        try socket.setBridgePort(index: hostEnd.index, BridgePortOptions(hairpin: true, isolated: true, learning: false))

        let names = Set(try socket.links().map(\.name))
        #expect(names.isSuperset(of: ["lo", "br-test", "veth-host"]))

        try socket.deleteLink(index: hostEnd.index)
        #expect(try socket.link(named: "veth-host") == nil)
        #expect(try container.socket.link(named: "eth0") == nil)
        let missing = #expect(throws: NetlinkError.self) { try socket.deleteLink(index: hostEnd.index) }
        #expect(missing?.errno == ENODEV)
    }

    @Test func dumpSpanningSeveralReceives() throws {
        let sandbox = try NamespaceSandbox()
        // ~80 links at >1 KiB each cannot fit in one 32 KiB dump datagram.
        let requests = (0..<40).map { NetlinkRequest.createVethPair(name: "va\($0)", peerName: "vb\($0)") }
        let outcomes = try sandbox.socket.perform(requests)
        #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
        let links = try sandbox.socket.links()
        #expect(links.count == 81)
        #expect(Set(links.map(\.index)).count == 81)
    }

    @Test func vlanFilteringWhereTheKernelSupportsIt() throws {
        let socket = try NamespaceSandbox().socket
        let created = Result { () throws(NetlinkError) in
            try socket.createBridge(name: "br-vlan", vlanFiltering: true, defaultPVID: 1)
        }
        // A kernel built without CONFIG_BRIDGE_VLAN_FILTERING refuses; nothing to check then.
        if case .failure(let error) = created, error.errno == EOPNOTSUPP { return }
        try created.get()
        let bridge = try #require(try socket.link(named: "br-vlan"))
        #expect(bridge.vlanFiltering == true)
        try socket.createVethPair(name: "vp0", peerName: "vp1")
        let port = try #require(try socket.link(named: "vp0"))
        try socket.setLink(index: port.index, masterIndex: bridge.index)
        try socket.addBridgeVLANs(index: port.index, [BridgeVLAN(vid: 10, pvid: true, untagged: true),
                                                      BridgeVLAN(vids: 100...200)])
        try socket.addBridgeVLANs(index: bridge.index, [BridgeVLAN(vid: 10)], onBridgeItself: true)
        let vlans = try socket.bridgeVLANs(index: port.index)
        #expect(vlans.contains(BridgeVLAN(vid: 10, pvid: true, untagged: true)))
        #expect(vlans.contains(BridgeVLAN(vids: 100...200)))
        try socket.deleteBridgeVLANs(index: port.index, [BridgeVLAN(vids: 100...200)])
        #expect(!(try socket.bridgeVLANs(index: port.index)).contains(BridgeVLAN(vids: 100...200)))
    }
}
