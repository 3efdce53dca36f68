import NetTypes
import Testing
@testable import Netlink

/// nf_tables element requests against what nft 1.0.6 sends for the same statement, captured
/// in a scratch namespace with
/// `strace -f -e trace=sendmsg -e write=3 -xx nft -f <file>` (one statement per file).
///
/// Ours differ from nft's in exactly two documented ways, applied to the capture by
/// `NftCapture.normalised` rather than hidden in hand-edited bytes: every change carries
/// NLM_F_ACK, and NEWSETELEM has no NFTA_SET_ELEM_LIST_SET_ID (a batch-local reference to a
/// set created in the same batch). Everything else — key layout, KEY_END, the comment TLV,
/// attribute order, batch markers — must match byte for byte.
@Suite struct NftablesEncodingTests {
    let masq4 = NftablesSet(family: .inet, table: "swift_cni", name: "masq4")
    let exempt4 = NftablesSet(family: .inet, table: "swift_cni", name: "exempt4")
    let exempt6 = NftablesSet(family: .inet, table: "swift_cni", name: "exempt6")
    let guarded = NftablesSet(family: .bridge, table: "swift_cni_macspoof", name: "guarded")
    let allowed = NftablesSet(family: .bridge, table: "swift_cni_macspoof", name: "allowed")

    /// Our batch with the sequences nft used (0 for begin, 1…, then end).
    func datagram(_ change: NetlinkRequest) -> [UInt8] {
        NftablesSocket.transaction([change]).enumerated().flatMap { $1.encoded(sequence: UInt32($0)) }
    }

    /// `exempt4`'s key for `10.22.0.5 . 10.22.0.0/16`, as a range.
    func exemption(_ address: String, _ subnet: String, comment: String? = nil) -> NftablesElement {
        let address = IPAddress(address)!, subnet = IPPrefix(subnet)!
        return NftablesElement(
            key: NftablesKey.concatenation([address.bytes, subnet.network.address.bytes]),
            keyEnd: NftablesKey.concatenation([address.bytes, subnet.lastAddress.bytes]),
            comment: comment)
    }

    // create element inet swift_cni masq4 { 10.22.0.5 comment "cbr/a/eth0" }
    @Test func createIPv4Address() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a 60 00 00 00  0c 0a 01 06 01 00 00 00
        00 00 00 00 01 00 00 00  0e 00 01 00 73 77 69 66
        74 5f 63 6e 69 00 00 00  0a 00 02 00 6d 61 73 71
        34 00 00 00 08 00 04 00  00 00 00 01 28 00 03 80
        24 00 01 80 0c 00 01 80  08 00 01 00 0a 16 00 05
        11 00 06 00 00 0b 63 62  72 2f 61 2f 65 74 68 30
        00 00 00 00 14 00 00 00  11 00 01 00 02 00 00 00
        00 00 00 00 00 00 00 0a
        """
        let element = NftablesElement(key: NftablesKey.address(IPAddress("10.22.0.5")!), comment: "cbr/a/eth0")
        #expect(datagram(.createSetElements([element], in: masq4)) == NftCapture.normalised(hexBytes(nft)))
    }

    // create element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 comment "cbr/a/eth0" }
    @Test func createIPv4ConcatenatedInterval() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a 74 00 00 00  0c 0a 01 06 01 00 00 00
        00 00 00 00 01 00 00 00  0e 00 01 00 73 77 69 66
        74 5f 63 6e 69 00 00 00  0c 00 02 00 65 78 65 6d
        70 74 34 00 08 00 04 00  00 00 00 02 3c 00 03 80
        38 00 01 80 10 00 01 80  0c 00 01 00 0a 16 00 05
        0a 16 00 00 10 00 0a 80  0c 00 01 00 0a 16 00 05
        0a 16 ff ff 11 00 06 00  00 0b 63 62 72 2f 61 2f
        65 74 68 30 00 00 00 00  14 00 00 00 11 00 01 00
        02 00 00 00 00 00 00 00  00 00 00 0a
        """
        let change = NetlinkRequest.createSetElements([exemption("10.22.0.5", "10.22.0.0/16", comment: "cbr/a/eth0")], in: exempt4)
        #expect(datagram(change) == NftCapture.normalised(hexBytes(nft)))
    }

    // create element inet swift_cni exempt6 { fd00:22::5 . fd00:22::/64 comment "cbr/a/eth0" }
    @Test func createIPv6ConcatenatedInterval() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a a4 00 00 00  0c 0a 01 06 01 00 00 00
        00 00 00 00 01 00 00 00  0e 00 01 00 73 77 69 66
        74 5f 63 6e 69 00 00 00  0c 00 02 00 65 78 65 6d
        70 74 36 00 08 00 04 00  00 00 00 04 6c 00 03 80
        68 00 01 80 28 00 01 80  24 00 01 00 fd 00 00 22
        00 00 00 00 00 00 00 00  00 00 00 05 fd 00 00 22
        00 00 00 00 00 00 00 00  00 00 00 00 28 00 0a 80
        24 00 01 00 fd 00 00 22  00 00 00 00 00 00 00 00
        00 00 00 05 fd 00 00 22  00 00 00 00 ff ff ff ff
        ff ff ff ff 11 00 06 00  00 0b 63 62 72 2f 61 2f
        65 74 68 30 00 00 00 00  14 00 00 00 11 00 01 00
        02 00 00 00 00 00 00 00  00 00 00 0a
        """
        let change = NetlinkRequest.createSetElements([exemption("fd00:22::5", "fd00:22::/64", comment: "cbr/a/eth0")], in: exempt6)
        #expect(datagram(change) == NftCapture.normalised(hexBytes(nft)))
    }

    // create element bridge swift_cni_macspoof guarded { "veth1234" comment "cbr/a/eth0" }
    @Test func createInterfaceName() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a 74 00 00 00  0c 0a 01 06 01 00 00 00
        00 00 00 00 07 00 00 00  17 00 01 00 73 77 69 66
        74 5f 63 6e 69 5f 6d 61  63 73 70 6f 6f 66 00 00
        0c 00 02 00 67 75 61 72  64 65 64 00 08 00 04 00
        00 00 00 05 34 00 03 80  30 00 01 80 18 00 01 80
        14 00 01 00 76 65 74 68  31 32 33 34 00 00 00 00
        00 00 00 00 11 00 06 00  00 0b 63 62 72 2f 61 2f
        65 74 68 30 00 00 00 00  14 00 00 00 11 00 01 00
        02 00 00 00 00 00 00 00  00 00 00 0a
        """
        let element = NftablesElement(key: NftablesKey.interfaceName("veth1234"), comment: "cbr/a/eth0")
        #expect(datagram(.createSetElements([element], in: guarded)) == NftCapture.normalised(hexBytes(nft)))
    }

    // create element bridge swift_cni_macspoof allowed { "veth1234" . 02:42:ac:11:00:02 comment "cbr/a/eth0" }
    @Test func createInterfaceNameAndMAC() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a 7c 00 00 00  0c 0a 01 06 01 00 00 00
        00 00 00 00 07 00 00 00  17 00 01 00 73 77 69 66
        74 5f 63 6e 69 5f 6d 61  63 73 70 6f 6f 66 00 00
        0c 00 02 00 61 6c 6c 6f  77 65 64 00 08 00 04 00
        00 00 00 06 3c 00 03 80  38 00 01 80 20 00 01 80
        1c 00 01 00 76 65 74 68  31 32 33 34 00 00 00 00
        00 00 00 00 02 42 ac 11  00 02 00 00 11 00 06 00
        00 0b 63 62 72 2f 61 2f  65 74 68 30 00 00 00 00
        14 00 00 00 11 00 01 00  02 00 00 00 00 00 00 00
        00 00 00 0a
        """
        let key = NftablesKey.concatenation([NftablesKey.interfaceName("veth1234"), NftablesKey.mac(MACAddress("02:42:ac:11:00:02")!)])
        let element = NftablesElement(key: key, comment: "cbr/a/eth0")
        #expect(datagram(.createSetElements([element], in: allowed)) == NftCapture.normalised(hexBytes(nft)))
    }

    // delete element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 } — nft sends no
    // SET_ID here, so only the ack flag differs. A comment on the element is not sent.
    @Test func deleteConcatenatedInterval() {
        let nft = """
        14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
        00 00 00 0a 58 00 00 00  0e 0a 01 00 01 00 00 00
        00 00 00 00 01 00 00 00  0e 00 01 00 73 77 69 66
        74 5f 63 6e 69 00 00 00  0c 00 02 00 65 78 65 6d
        70 74 34 00 28 00 03 80  24 00 01 80 10 00 01 80
        0c 00 01 00 0a 16 00 05  0a 16 00 00 10 00 0a 80
        0c 00 01 00 0a 16 00 05  0a 16 ff ff 14 00 00 00
        11 00 01 00 02 00 00 00  00 00 00 00 00 00 00 0a
        """
        let change = NetlinkRequest.deleteSetElements([exemption("10.22.0.5", "10.22.0.0/16", comment: "cbr/a/eth0")], in: exempt4)
        #expect(datagram(change) == NftCapture.normalised(hexBytes(nft)))
    }

    /// `add element` differs from `create` only in NLM_F_EXCL (nft: flags 0x0401 vs 0x0601).
    @Test func addLeavesOutExclusive() {
        let element = NftablesElement(key: NftablesKey.address(IPAddress("10.22.0.7")!))
        let add = NetlinkRequest.addSetElements([element], in: masq4).encoded(sequence: 1)
        let create = NetlinkRequest.createSetElements([element], in: masq4).encoded(sequence: 1)
        #expect(add[6...7] == [0x05, 0x04])
        #expect(create[6...7] == [0x05, 0x06])
        #expect(add[8...] == create[8...])
    }

    /// The GETSETELEM dump request nft sends for `nft list set inet swift_cni exempt4`.
    @Test func dumpRequest() {
        let nft = """
        30 00 00 00 0d 0a 01 03  00 00 00 00 00 00 00 00
        01 00 00 00 0c 00 02 00  65 78 65 6d 70 74 34 00
        0e 00 01 00 73 77 69 66  74 5f 63 6e 69 00 00 00
        """
        #expect(NetlinkRequest.dumpSetElements(in: exempt4).encoded(sequence: 0) == hexBytes(nft))
    }

    @Test func keyFieldsRoundTrip() {
        let mac = MACAddress("02:42:ac:11:00:02")!
        let key = NftablesKey.concatenation([NftablesKey.interfaceName("veth1234"), NftablesKey.mac(mac)])
        let fields = NftablesKey.fields(of: key, lengths: [16, 6])
        #expect(fields.map { NftablesKey.interfaceName(from: $0[0]) } == "veth1234")
        #expect(fields?[1] == mac.bytes)
        #expect(NftablesKey.fields(of: key, lengths: [16, 4]) == nil)
    }

    @Test func commentTLV() {
        #expect(NftablesUserData.encode(comment: "cbr/a/eth0") == [0, 11] + Array("cbr/a/eth0".utf8) + [0])
        #expect(NftablesUserData.comment(in: [1, 2, 9, 9, 0, 3, 0x61, 0x62, 0]) == "ab")
        #expect(NftablesUserData.comment(in: [0, 9, 0x61]) == nil)
    }
}

/// nft's captured datagrams, turned into what we send for the same statement.
enum NftCapture {
    /// Adds NLM_F_ACK to every message but the batch markers and drops
    /// NFTA_SET_ELEM_LIST_SET_ID (type 4) from NEWSETELEM messages.
    static func normalised(_ datagram: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(UInt32(hostOrderBytes: datagram[offset...])!)
            var message = Array(datagram[offset..<(offset + length)])
            let type = UInt16(hostOrderBytes: message[4...])!
            if type >> 8 == 10 {
                message[6] |= 0x04
                if type & 0xff == 12 { message = withoutAttribute(4, message) }
            }
            out += message
            offset += length
        }
        return out
    }

    /// The message without its first top-level attribute of `type` (after nlmsghdr + nfgenmsg).
    private static func withoutAttribute(_ type: UInt16, _ message: [UInt8]) -> [UInt8] {
        var offset = 20
        while offset + 4 <= message.count {
            let length = Int(UInt16(hostOrderBytes: message[offset...])!)
            let aligned = (length + 3) & ~3
            if UInt16(hostOrderBytes: message[(offset + 2)...])! & 0x3fff == type {
                var out = Array(message[..<offset]) + message[(offset + aligned)...]
                out.replaceSubrange(0..<4, with: UInt32(out.count).hostOrderBytes)
                return out
            }
            offset += aligned
        }
        return message
    }
}
