import NetTypes
import Testing
@testable import Netlink

/// Golden bytes captured from iproute2 with `strace -e write=3` in a scratch namespace
/// (`unshare -n`); the sequence number is the one `ip` used.
@Suite struct LinkEncodingTests {
    @Test func newBridge() {
        // ip link add br0 type bridge
        let expected = hexBytes("""
            38 00 00 00 10 00 05 06 dc 84 07 6b 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            08 00 03 00 62 72 30 00 10 00 12 00 0a 00 01 00
            62 72 69 64 67 65 00 00
            """)
        #expect(NetlinkRequest.createBridge(name: "br0").encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func newBridgeWithVLANFiltering() {
        // ip link add br1 mtu 1400 address 02:00:00:00:00:01 type bridge vlan_filtering 1 vlan_default_pvid 1
        let expected = hexBytes("""
            60 00 00 00 10 00 05 06 dc 84 07 6b 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            08 00 04 00 78 05 00 00 0a 00 01 00 02 00 00 00
            00 01 00 00 08 00 03 00 62 72 31 00 24 00 12 00
            0a 00 01 00 62 72 69 64 67 65 00 00 14 00 02 00
            05 00 07 00 01 00 00 00 06 00 27 00 01 00 00 00
            """)
        let request = NetlinkRequest.createBridge(
            name: "br1", mtu: 1400, mac: MACAddress("02:00:00:00:00:01"), vlanFiltering: true, defaultPVID: 1)
        #expect(request.encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func vethPairWithPeerInAnotherNamespace() {
        // ip link add v0 mtu 1450 address 02:00:00:00:00:02 type veth
        //   peer name v1 mtu 1450 address 02:00:00:00:00:03 netns nlt-cap2   (ip opened the netns as fd 4)
        let expected = hexBytes("""
            84 00 00 00 10 00 05 06 c5 85 07 6b 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            08 00 04 00 aa 05 00 00 0a 00 01 00 02 00 00 00
            00 02 00 00 07 00 03 00 76 30 00 00 48 00 12 00
            08 00 01 00 76 65 74 68 3c 00 02 00 38 00 01 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            08 00 04 00 aa 05 00 00 0a 00 01 00 02 00 00 00
            00 03 00 00 08 00 1c 00 04 00 00 00 07 00 03 00
            76 31 00 00
            """)
        let request = NetlinkRequest.createVethPair(
            name: "v0", peerName: "v1", peerNamespaceFD: 4, mtu: 1450,
            mac: MACAddress("02:00:00:00:00:02"), peerMac: MACAddress("02:00:00:00:00:03"))
        #expect(request.encoded(sequence: 0x6b07_85c5) == expected)
    }

    @Test func echoedVethPairAsIpEchoSendsIt() {
        // ip -echo link add v2 type veth peer name v3: flags REQUEST|ACK|ECHO|EXCL|CREATE
        let expected = hexBytes("""
            54 00 00 00 10 00 0d 06 5c 85 07 6b 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            07 00 03 00 76 32 00 00 2c 00 12 00 08 00 01 00
            76 65 74 68 20 00 02 00 1c 00 01 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 07 00 03 00
            76 33 00 00
            """)
        let request = NetlinkRequest.createVethPair(name: "v2", peerName: "v3").echoing()
        #expect(request.encoded(sequence: 0x6b07_855c) == expected)
    }

    @Test func setLinkUpAndMTU() {
        // ip link set dev v2 up mtu 1400   (v2 had index 6)
        let expected = hexBytes("""
            28 00 00 00 10 00 05 00 dc 84 07 6b 00 00 00 00
            00 00 00 00 06 00 00 00 01 00 00 00 01 00 00 00
            08 00 04 00 78 05 00 00
            """)
        #expect(NetlinkRequest.setLink(index: 6, up: true, mtu: 1400).encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func setLinkARPNotify() {
        // sysctl net.ipv4.conf.<index 6>.arp_notify=1 as a link request: IFLA_AF_SPEC {
        // AF_INET { IFLA_INET_CONF { [IPV4_DEVCONF_ARP_NOTIFY = 22] = u32 1 } } }, no flags
        let expected = hexBytes("""
            34 00 00 00 10 00 05 00 01 00 00 00 00 00 00 00
            00 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00
            14 00 1a 00 10 00 02 00 0c 00 01 00 08 00 16 00
            01 00 00 00
            """)
        #expect(NetlinkRequest.setLink(index: 6, arpNotify: true).encoded(sequence: 1) == expected)
    }

    @Test func bridgePortHairpin() {
        // bridge link set dev v2 hairpin on
        let expected = hexBytes("""
            2c 00 00 00 13 00 05 00 dd 84 07 6b 00 00 00 00
            07 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00
            0c 00 0c 80 05 00 04 00 01 00 00 00
            """)
        let request = NetlinkRequest.setBridgePort(index: 6, BridgePortOptions(hairpin: true))
        #expect(request.encoded(sequence: 0x6b07_84dd) == expected)
    }

    @Test func deleteLinkIsBareHeader() {
        // Hand-built from the uapi layout: nlmsghdr{32, RTM_DELLINK=17, REQUEST|ACK}, ifinfomsg{index 9}.
        let expected = hexBytes("""
            20 00 00 00 11 00 05 00 01 00 00 00 00 00 00 00
            00 00 00 00 09 00 00 00 00 00 00 00 00 00 00 00
            """)
        #expect(NetlinkRequest.deleteLink(index: 9).encoded(sequence: 1) == expected)
    }
}
