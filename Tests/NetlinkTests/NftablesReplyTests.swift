import NetTypes
import Testing
@testable import Netlink

/// Parsing a GETSETELEM dump, from the kernel's reply to `nft list set inet swift_cni exempt4`
/// (captured with `strace -e trace=recvmsg -e read=3`) holding
/// `10.22.0.5 . 10.22.0.0/16 comment "cbr/a/eth0"` and `10.22.0.9 . 10.22.0.0/16`.
@Suite struct NftablesReplyTests {
    let reply = """
    90 00 00 00 0c 0a 02 00  00 00 00 00 c8 43 00 00
    01 00 00 0b 0e 00 01 00  73 77 69 66 74 5f 63 6e
    69 00 00 00 0c 00 02 00  65 78 65 6d 70 74 34 00
    60 00 03 00 38 00 01 00  10 00 01 00 0c 00 01 00
    0a 16 00 05 0a 16 00 00  10 00 0a 00 0c 00 01 00
    0a 16 00 05 0a 16 ff ff  11 00 06 00 00 0b 63 62
    72 2f 61 2f 65 74 68 30  00 00 00 00 24 00 01 00
    10 00 01 00 0c 00 01 00  0a 16 00 09 0a 16 00 00
    10 00 0a 00 0c 00 01 00  0a 16 00 09 0a 16 ff ff
    """
    /// The dump's last data message (empty element list) and NLMSG_DONE.
    let end = """
    34 00 00 00 0c 0a 02 00  00 00 00 00 c8 43 00 00
    01 00 00 0b 0e 00 01 00  73 77 69 66 74 5f 63 6e
    69 00 00 00 0c 00 02 00  65 78 65 6d 70 74 34 00
    04 00 03 00 14 00 00 00  03 00 02 00 00 00 00 00
    c8 43 00 00 00 00 00 00
    """

    @Test func elementsWithKeysRangesAndComments() {
        let messages = ReceivedMessage.split(hexBytes(reply))
        #expect(messages.count == 1)
        let elements = messages.flatMap(NftablesElement.elements(in:))
        #expect(elements == [
            NftablesElement(key: [10, 22, 0, 5, 10, 22, 0, 0], keyEnd: [10, 22, 0, 5, 10, 22, 255, 255], comment: "cbr/a/eth0"),
            NftablesElement(key: [10, 22, 0, 9, 10, 22, 0, 0], keyEnd: [10, 22, 0, 9, 10, 22, 255, 255]),
        ])
    }

    @Test func emptyListAndDone() {
        let messages = ReceivedMessage.split(hexBytes(end))
        #expect(messages.count == 2)
        #expect(NftablesElement.elements(in: messages[0]).isEmpty)
        #expect(messages[1].isDone && messages[1].failure(operation: "dump") == nil)
    }
}
