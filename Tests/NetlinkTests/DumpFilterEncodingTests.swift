import Testing
@testable import Netlink

/// Filtered dumps as iproute2 sends them (strace in a scratch namespace, `lo` = index 1);
/// the kernel applies these filters only on a socket with NETLINK_GET_STRICT_CHK.
@Suite struct DumpFilterEncodingTests {
    @Test func addressesOfOneLink() {
        // ip -4 addr show dev lo
        let expected = hexBytes("""
            18 00 00 00 16 00 01 03 49 86 07 6b 00 00 00 00
            02 00 00 00 01 00 00 00
            """)
        #expect(NetlinkRequest.dumpAddresses(family: .v4, index: 1).encoded(sequence: 0x6b07_8649) == expected)
    }

    @Test func routesOfOneTable() {
        // ip -4 route show table main
        let expected = hexBytes("""
            24 00 00 00 1a 00 01 03 48 86 07 6b 00 00 00 00
            02 00 00 00 00 00 00 00 00 00 00 00 08 00 0f 00
            fe 00 00 00
            """)
        #expect(NetlinkRequest.dumpRoutes(family: .v4, table: 254).encoded(sequence: 0x6b07_8648) == expected)
    }

    @Test func neighboursOfOneLink() {
        // ip -4 neigh show dev lo
        let expected = hexBytes("""
            24 00 00 00 1e 00 01 03 49 86 07 6b 00 00 00 00
            02 00 00 00 00 00 00 00 00 00 00 00 08 00 08 00
            01 00 00 00
            """)
        #expect(NetlinkRequest.dumpNeighbours(family: 2, index: 1).encoded(sequence: 0x6b07_8649) == expected)
    }
}
