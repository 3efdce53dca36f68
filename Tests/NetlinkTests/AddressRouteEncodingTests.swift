import NetTypes
import Testing
@testable import Netlink

/// Golden bytes captured from iproute2 with `strace -e write=3` in a scratch namespace
/// (`lo` had index 1 there).
@Suite struct AddressRouteEncodingTests {
    @Test func addIPv4AddressWithBroadcast() {
        // ip addr add 10.1.2.3/24 brd + dev lo
        let expected = hexBytes("""
            30 00 00 00 14 00 05 06 dc 84 07 6b 00 00 00 00
            02 18 00 00 01 00 00 00 08 00 02 00 0a 01 02 03
            08 00 01 00 0a 01 02 03 08 00 04 00 0a 01 02 ff
            """)
        let request = NetlinkRequest.addAddress(IPPrefix("10.1.2.3/24")!, index: 1)
        #expect(request.encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func addIPv6AddressWithoutDAD() {
        // ip addr add fd00::5/64 dev lo nodad
        let expected = hexBytes("""
            40 00 00 00 14 00 05 06 dc 84 07 6b 00 00 00 00
            0a 40 02 00 01 00 00 00 14 00 02 00 fd 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 05 14 00 01 00
            fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 05
            """)
        let request = NetlinkRequest.addAddress(IPPrefix("fd00::5/64")!, index: 1, noDAD: true)
        #expect(request.encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func pointToPointIPv4HasNoBroadcast() {
        let bytes = NetlinkRequest.addAddress(IPPrefix("10.1.2.3/31")!, index: 1).encoded(sequence: 1)
        #expect(bytes.count == 0x28)
    }

    @Test func addRouteWithGateway() {
        // ip route add 10.2.0.0/16 via 10.1.2.1 dev lo
        let expected = hexBytes("""
            34 00 00 00 18 00 05 06 dc 84 07 6b 00 00 00 00
            02 10 00 00 fe 03 00 01 00 00 00 00 08 00 01 00
            0a 02 00 00 08 00 05 00 0a 01 02 01 08 00 04 00
            01 00 00 00
            """)
        let route = Route(destination: IPPrefix("10.2.0.0/16")!, gateway: IPAddress("10.1.2.1"), outputIndex: 1)
        #expect(NetlinkRequest.addRoute(route).encoded(sequence: 0x6b07_84dc) == expected)
    }

    @Test func replaceOnlinkRouteWithMetricsAndBigTable() {
        // Hand-built from the uapi layout (linux/rtnetlink.h):
        // nlmsghdr{len 0x58, RTM_NEWROUTE=24, REQUEST|ACK|REPLACE|CREATE = 0x0505, seq 7}
        // rtmsg{AF_INET, dst_len 24, table UNSPEC (table > 255), BOOT, UNIVERSE, UNICAST, RTNH_F_ONLINK}
        // RTA_DST 10.244.1.0, RTA_GATEWAY 10.244.1.0, RTA_OIF 5, RTA_PRIORITY 100, RTA_TABLE 1000,
        // RTA_METRICS{RTAX_MTU 1450, RTAX_ADVMSS 1410}
        let expected = hexBytes("""
            58 00 00 00 18 00 05 05 07 00 00 00 00 00 00 00
            02 18 00 00 00 03 00 01 04 00 00 00
            08 00 01 00 0a f4 01 00
            08 00 05 00 0a f4 01 00
            08 00 04 00 05 00 00 00
            08 00 06 00 64 00 00 00
            08 00 0f 00 e8 03 00 00
            14 00 08 00 08 00 02 00 aa 05 00 00 08 00 08 00 82 05 00 00
            """)
        let route = Route(destination: IPPrefix("10.244.1.0/24")!, gateway: IPAddress("10.244.1.0"),
                          outputIndex: 5, table: 1000, priority: 100, mtu: 1450, advmss: 1410, onlink: true)
        #expect(NetlinkRequest.addRoute(route, replace: true).encoded(sequence: 7) == expected)
    }

    @Test func routeWithoutGatewayDefaultsToLinkScope() {
        let route = Route(destination: IPPrefix("10.9.0.0/16")!, outputIndex: 2)
        #expect(route.scope == .link)
        #expect(Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.0.0.1")).scope == .universe)
    }
}
