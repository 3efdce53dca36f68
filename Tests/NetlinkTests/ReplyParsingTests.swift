import Glibc
import NetTypes
import Testing
@testable import Netlink

/// Kernel replies parsed into typed values. The error datagrams were captured from `ip` with
/// `strace -e read=3`; the link message is hand-built from the uapi layout.
@Suite struct ReplyParsingTests {
    @Test func errorWithExtendedAckText() throws {
        // ip route add 10.2.0.1/16 dev lo: EINVAL, full request echoed (ip does not cap acks),
        // then NLMSGERR_ATTR_MSG.
        let datagram = hexBytes("""
            6c 00 00 00 02 00 00 02 c5 85 07 6b 1d 21 00 00
            ea ff ff ff 2c 00 00 00 18 00 05 06 c5 85 07 6b
            00 00 00 00 02 10 00 00 fe 03 fd 01 00 00 00 00
            08 00 01 00 0a 02 00 01 08 00 04 00 01 00 00 00
            2b 00 01 00 49 6e 76 61 6c 69 64 20 70 72 65 66
            69 78 20 66 6f 72 20 67 69 76 65 6e 20 70 72 65
            66 69 78 20 6c 65 6e 67 74 68 00 00
            """)
        let messages = ReceivedMessage.split(datagram)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.isError && message.sequence == 0x6b07_85c5)
        let error = try #require(message.failure(operation: "add route 10.2.0.1/16"))
        #expect(error.errno == EINVAL)
        #expect(error.kernelMessage == "Invalid prefix for given prefix length")
        #expect(error.description == "add route 10.2.0.1/16: Invalid argument (kernel: Invalid prefix for given prefix length)")
    }

    @Test func cappedErrorWithExtendedAck() throws {
        // Hand-built: NLM_F_CAPPED|NLM_F_ACK_TLVS, EEXIST, only the 16-byte request header echoed.
        let datagram = hexBytes("""
            30 00 00 00 02 00 00 03 09 00 00 00 00 00 00 00
            ef ff ff ff 38 00 00 00 10 00 05 06 09 00 00 00
            00 00 00 00 0c 00 01 00 65 78 69 73 74 73 00 00
            """)
        let error = try #require(ReceivedMessage.split(datagram).first?.failure(operation: "create bridge br0"))
        #expect(error.errno == EEXIST)
        #expect(error.kernelMessage == "exists")
    }

    @Test func plainErrorAndAck() throws {
        // ip -o link show dev lo in a namespace without it: ENODEV, no TLVs.
        let enodev = hexBytes("""
            34 00 00 00 02 00 00 00 00 00 00 00 22 21 00 00
            ed ff ff ff 20 00 00 00 10 00 05 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00
            """)
        let error = try #require(ReceivedMessage.split(enodev).first?.failure(operation: "get link lo"))
        #expect(error.errno == ENODEV && error.kernelMessage == nil)
        let ack = hexBytes("24 00 00 00 02 00 00 01 05 00 00 00 00 00 00 00 00 00 00 00 20 00 00 00 10 00 05 00 05 00 00 00 00 00 00 00")
        #expect(ReceivedMessage.split(ack).first?.failure(operation: "x") == nil)
    }

    @Test func newLinkMessage() throws {
        // nlmsghdr{RTM_NEWLINK}, ifinfomsg{index 7, flags UP|BROADCAST|PROMISC|MULTICAST},
        // IFNAME "veth1", MTU 1450, ADDRESS 02:42:ac:11:00:02, MASTER 3, LINK 8, LINKINFO{KIND "veth"}.
        let datagram = hexBytes("""
            5c 00 00 00 10 00 02 00 01 00 00 00 00 00 00 00
            00 00 01 00 07 00 00 00 03 11 00 00 00 00 00 00
            0a 00 03 00 76 65 74 68 31 00 00 00
            08 00 04 00 aa 05 00 00
            0a 00 01 00 02 42 ac 11 00 02 00 00
            08 00 0a 00 03 00 00 00
            08 00 05 00 08 00 00 00
            0c 00 12 00 08 00 01 00 76 65 74 68
            """)
        let message = try #require(ReceivedMessage.split(datagram).first)
        let link = try #require(Link(message))
        #expect(link.index == 7 && link.name == "veth1" && link.kind == "veth")
        #expect(link.mtu == 1450 && link.mac == MACAddress("02:42:ac:11:00:02"))
        #expect(link.isUp && link.isPromiscuous)
        #expect(link.masterIndex == 3 && link.parentIndex == 8 && link.vlanFiltering == nil)
    }

    @Test func dumpDatagramWithSeveralMessagesAndInterruptedDone() {
        // Two RTM_NEWADDR messages and NLMSG_DONE flagged NLM_F_MULTI|NLM_F_DUMP_INTR.
        let datagram = hexBytes("""
            28 00 00 00 14 00 02 00 04 00 00 00 00 00 00 00
            02 18 80 00 03 00 00 00 08 00 02 00 0a 16 00 01
            08 00 01 00 0a 16 00 01
            2c 00 00 00 14 00 02 00 04 00 00 00 00 00 00 00
            0a 40 00 fd 03 00 00 00 14 00 01 00 fd 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 01
            14 00 00 00 03 00 12 00 04 00 00 00 00 00 00 00
            00 00 00 00
            """)
        let messages = ReceivedMessage.split(datagram)
        #expect(messages.count == 3)
        let addresses = messages.compactMap(InterfaceAddress.init)
        #expect(addresses == [
            InterfaceAddress(index: 3, prefix: IPPrefix("10.22.0.1/24")!, flags: .permanent),
            InterfaceAddress(index: 3, prefix: IPPrefix("fd00::1/64")!, scope: Scope(rawValue: 0xfd), flags: []),
        ])
        #expect(messages[2].isDone && messages[2].isDumpInterrupted)
        #expect(messages[2].failure(operation: "list addresses") == nil)
    }

    @Test func routeMessage() throws {
        // RTM_NEWROUTE: AF_INET /16 main BOOT universe unicast, DST 10.30.0.0, GATEWAY 10.22.0.254,
        // OIF 4, PRIORITY 100, TABLE 254, METRICS{MTU 1350}.
        let datagram = hexBytes("""
            50 00 00 00 18 00 02 00 01 00 00 00 00 00 00 00
            02 10 00 00 fe 03 00 01 00 00 00 00
            08 00 01 00 0a 1e 00 00
            08 00 05 00 0a 16 00 fe
            08 00 04 00 04 00 00 00
            08 00 06 00 64 00 00 00
            08 00 0f 00 fe 00 00 00
            0c 00 08 00 08 00 02 00 46 05 00 00
            """)
        let route = try #require(ReceivedMessage.split(datagram).first.flatMap(Route.init))
        #expect(route == Route(destination: IPPrefix("10.30.0.0/16")!, gateway: IPAddress("10.22.0.254"),
                               outputIndex: 4, priority: 100, mtu: 1350))
    }
}
