import CMnl

/// One netlink message read from the socket.
struct ReceivedMessage {
    let messageType: UInt16
    let flags: UInt16
    let sequence: UInt32
    /// Everything after the nlmsghdr.
    let payload: [UInt8]

    var isError: Bool { messageType == UInt16(NLMSG_ERROR) }
    var isDone: Bool { messageType == UInt16(NLMSG_DONE) }
    /// The kernel saw the table change mid-dump: the dump may be inconsistent.
    var isDumpInterrupted: Bool { flags & UInt16(NLM_F_DUMP_INTR) != 0 }

    /// Splits one datagram into its messages; stops at a malformed length.
    static func split(_ datagram: [UInt8]) -> [ReceivedMessage] {
        let headerLength = Int(cmnl_nlmsg_hdrlen())
        var messages: [ReceivedMessage] = []
        var offset = 0
        while offset + headerLength <= datagram.count {
            let length = Int(UInt32(hostOrderBytes: datagram[offset...])!)
            guard length >= headerLength, offset + length <= datagram.count else { break }
            messages.append(ReceivedMessage(
                messageType: UInt16(hostOrderBytes: datagram[(offset + 4)...])!,
                flags: UInt16(hostOrderBytes: datagram[(offset + 6)...])!,
                sequence: UInt32(hostOrderBytes: datagram[(offset + 8)...])!,
                payload: Array(datagram[(offset + headerLength)..<(offset + length)])))
            offset += Int(cmnl_align(length))
        }
        return messages
    }

    /// For NLMSG_ERROR and NLMSG_DONE: the error the kernel reported (nil for a plain ack).
    ///
    /// The payload is an int (negative errno or 0); an error message then echoes the request's
    /// header (only the header when NLM_F_CAPPED), and with NLM_F_ACK_TLVS the extended-ack
    /// attributes follow.
    func failure(operation: @autoclosure () -> String) -> NetlinkError? {
        guard let code = Int32(hostOrderBytes: payload), code != 0 else { return nil }
        // Anything but a negative errno is a malformed reply (Int32.min has no negation).
        let errno = code < 0 && code != .min ? -code : EPROTO
        return NetlinkError(operation: operation(), errno: errno, kernelMessage: extendedAckMessage())
    }

    private func extendedAckMessage() -> String? {
        guard flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
        var attributesStart = 4
        if isError {
            let echoed = payload.count >= 4 + Int(cmnl_nlmsg_hdrlen())
                ? Int(UInt32(hostOrderBytes: payload[4...])!) : 0
            let echoedLength = flags & UInt16(NLM_F_CAPPED) != 0 ? Int(cmnl_nlmsg_hdrlen()) : echoed
            attributesStart = 4 + Int(cmnl_align(echoedLength))
        }
        guard attributesStart <= payload.count else { return nil }
        return AttributeList(Array(payload[attributesStart...])).string(NLMSGERR_ATTR_MSG.rawValue)
    }
}

extension ReceivedMessage {
    /// The attributes that follow the family header (ifinfomsg, rtmsg, ...).
    func attributes<Header>(after header: Header.Type) -> AttributeList {
        AttributeList(Array(payload.dropFirst(MemoryLayout<Header>.size)))
    }
}
