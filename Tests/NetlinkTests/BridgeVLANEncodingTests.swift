import Testing
@testable import Netlink

/// Golden bytes captured from `bridge vlan add` (iproute2) with `strace -e write=3`.
@Suite struct BridgeVLANEncodingTests {
    @Test func addPVIDUntaggedOnPort() {
        // bridge vlan add dev v2 vid 10 pvid untagged   (v2 had index 6)
        let expected = hexBytes("""
            2c 00 00 00 13 00 05 00 dd 84 07 6b 00 00 00 00
            07 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00
            0c 00 1a 00 08 00 02 00 06 00 0a 00
            """)
        let request = NetlinkRequest.addBridgeVLANs(index: 6, [BridgeVLAN(vid: 10, pvid: true, untagged: true)])
        #expect(request.encoded(sequence: 0x6b07_84dd) == expected)
    }

    @Test func addOnBridgeItself() {
        // bridge vlan add dev br0 vid 20 self   (br0 had index 2)
        let expected = hexBytes("""
            34 00 00 00 13 00 05 00 dd 84 07 6b 00 00 00 00
            07 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00
            14 00 1a 00 06 00 00 00 02 00 00 00 08 00 02 00
            00 00 14 00
            """)
        let request = NetlinkRequest.addBridgeVLANs(index: 2, [BridgeVLAN(vid: 20)], onBridgeItself: true)
        #expect(request.encoded(sequence: 0x6b07_84dd) == expected)
    }

    @Test func addTrunkRange() {
        // bridge vlan add dev v2 vid 100-200
        let expected = hexBytes("""
            34 00 00 00 13 00 05 00 dd 84 07 6b 00 00 00 00
            07 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00
            14 00 1a 00 08 00 02 00 08 00 64 00 08 00 02 00
            10 00 c8 00
            """)
        let request = NetlinkRequest.addBridgeVLANs(index: 6, [BridgeVLAN(vids: 100...200)])
        #expect(request.encoded(sequence: 0x6b07_84dd) == expected)
    }

    @Test func compressedListFoldsRanges() {
        // IFLA_BRIDGE_VLAN_INFO payloads as the kernel reports them: {flags u16, vid u16}.
        let payloads: [[UInt8]] = [
            [0x06, 0x00, 0x01, 0x00],  // PVID|UNTAGGED, vid 1
            [0x08, 0x00, 0x64, 0x00],  // RANGE_BEGIN, vid 100
            [0x10, 0x00, 0xc8, 0x00],  // RANGE_END, vid 200
            [0x04, 0x00, 0x2c, 0x01],  // UNTAGGED, vid 300
        ]
        #expect(BridgeVLAN.parseList(payloads) == [
            BridgeVLAN(vid: 1, pvid: true, untagged: true),
            BridgeVLAN(vids: 100...200),
            BridgeVLAN(vid: 300, untagged: true),
        ])
    }
}
