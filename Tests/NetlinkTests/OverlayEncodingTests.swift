import NetTypes
import Testing
@testable import Netlink

/// Golden bytes for the VXLAN node agent's requests, captured from iproute2 (`ip`, `bridge`)
/// with `strace -e write=3` in a scratch namespace, where flannel.1 had index 4.
@Suite struct OverlayEncodingTests {
    @Test func createVXLAN() {
        // ip link add flannel.1 mtu 1450 address 02:00:00:00:00:0a type vxlan id 1
        //   local 192.168.1.1 dev u0 dstport 8472 nolearning   (u0 had index 3)
        let expected = hexBytes("""
            80 00 00 00 10 00 05 06 c7 86 07 6b 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            08 00 04 00 aa 05 00 00 0a 00 01 00 02 00 00 00
            00 0a 00 00 0e 00 03 00 66 6c 61 6e 6e 65 6c 2e
            31 00 00 00 3c 00 12 00 09 00 01 00 76 78 6c 61
            6e 00 00 00 2c 00 02 00 08 00 03 00 03 00 00 00
            08 00 01 00 01 00 00 00 08 00 04 00 c0 a8 01 01
            05 00 07 00 00 00 00 00 06 00 0f 00 21 18 00 00
            """)
        let settings = VXLANSettings(vni: 1, local: IPAddress("192.168.1.1"), underlayIndex: 3)
        let request = NetlinkRequest.createVXLAN(name: "flannel.1", settings, mtu: 1450,
                                                 mac: MACAddress("02:00:00:00:00:0a"))
        #expect(request.encoded(sequence: 0x6b07_86c7) == expected)
    }

    @Test func permanentNeighbourReplaceAddDelete() {
        let mac = MACAddress("02:00:00:00:00:0b")!
        // ip neigh replace 10.244.1.0 lladdr 02:00:00:00:00:0b dev flannel.1 nud permanent
        #expect(NetlinkRequest.addNeighbour(IPAddress("10.244.1.0")!, mac: mac, index: 4, replace: true)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("""
            30 00 00 00 1c 00 05 05 c8 86 07 6b 00 00 00 00
            02 00 00 00 04 00 00 00 80 00 00 00 08 00 01 00
            0a f4 01 00 0a 00 02 00 02 00 00 00 00 0b 00 00
            """))
        // ip neigh add 10.244.2.0 lladdr 02:00:00:00:00:0c dev flannel.1 nud permanent
        #expect(NetlinkRequest.addNeighbour(IPAddress("10.244.2.0")!, mac: MACAddress("02:00:00:00:00:0c")!, index: 4)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("""
            30 00 00 00 1c 00 05 06 c8 86 07 6b 00 00 00 00
            02 00 00 00 04 00 00 00 80 00 00 00 08 00 01 00
            0a f4 02 00 0a 00 02 00 02 00 00 00 00 0c 00 00
            """))
        // ip neigh del 10.244.1.0 dev flannel.1
        #expect(NetlinkRequest.deleteNeighbour(IPAddress("10.244.1.0")!, index: 4)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("""
            24 00 00 00 1d 00 05 00 c8 86 07 6b 00 00 00 00
            02 00 00 00 04 00 00 00 80 00 00 00 08 00 01 00
            0a f4 01 00
            """))
    }

    @Test func neighbourRefresh() {
        // ip neigh change 10.22.9.9 lladdr 02:00:00:00:00:02 nud stale dev <index 3> (strace)
        #expect(NetlinkRequest.refreshNeighbour(IPAddress("10.22.9.9")!, mac: MACAddress("02:00:00:00:00:02")!, index: 3)
            .encoded(sequence: 0x6b07_aab5) == hexBytes("""
            30 00 00 00 1c 00 05 01 b5 aa 07 6b 00 00 00 00
            02 00 00 00 03 00 00 00 04 00 00 00 08 00 01 00
            0a 16 09 09 0a 00 02 00 02 00 00 00 00 02 00 00
            """))
    }

    @Test func fdbAppendReplaceDelete() {
        let mac = MACAddress("02:00:00:00:00:0b")!
        let vtep = IPAddress("192.168.1.2")!
        let body = """
            07 00 00 00 04 00 00 00 c0 00 02 00 0a 00 02 00
            02 00 00 00 00 0b 00 00 08 00 01 00 c0 a8 01 02
            """
        // bridge fdb append 02:00:00:00:00:0b dev flannel.1 dst 192.168.1.2 self permanent
        #expect(NetlinkRequest.addFDBEntry(mac: mac, destination: vtep, index: 4, mode: .append)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("30 00 00 00 1c 00 05 0c c8 86 07 6b 00 00 00 00\n" + body))
        // bridge fdb replace ... (same entry, NLM_F_REPLACE instead of NLM_F_APPEND)
        #expect(NetlinkRequest.addFDBEntry(mac: mac, destination: vtep, index: 4, mode: .replace)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("30 00 00 00 1c 00 05 05 c8 86 07 6b 00 00 00 00\n" + body))
        // bridge fdb del 02:00:00:00:00:0b dev flannel.1 dst 192.168.1.2 self
        #expect(NetlinkRequest.deleteFDBEntry(mac: mac, destination: vtep, index: 4)
            .encoded(sequence: 0x6b07_86c8) == hexBytes("30 00 00 00 1d 00 05 00 c8 86 07 6b 00 00 00 00\n" + body))
    }
}
