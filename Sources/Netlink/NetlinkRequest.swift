import CMnl

/// One netlink request (rtnetlink or nf_tables), built but not yet sent.
///
/// Requests are plain values made by the static factories (`.createBridge`, `.addAddress`,
/// ...), so a caller can collect several into one `RouteSocket.perform(_:)` batch, and tests
/// can compare `encoded(sequence:)` to golden bytes without a socket.
package struct NetlinkRequest: Sendable {
    /// Human wording of the request, used as `NetlinkError.operation`. Worded only when
    /// asked for (an error, a log line): a batch of thousands of routes would otherwise format
    /// thousands of addresses nobody reads.
    package var operation: String { wording() }
    private let wording: @Sendable () -> String
    let messageType: UInt16
    let flags: UInt16
    /// The family header (ifinfomsg, ifaddrmsg, ...) followed by the attributes.
    let payload: [UInt8]

    init(operation: @autoclosure @escaping @Sendable () -> String, messageType: some BinaryInteger,
         flags: some BinaryInteger, payload: [UInt8]) {
        self.wording = operation
        self.messageType = UInt16(truncatingIfNeeded: messageType)
        self.flags = UInt16(truncatingIfNeeded: flags)
        self.payload = payload
    }

    /// A change request: the kernel acks it, so every one gets an outcome in a batch.
    init(operation: @autoclosure @escaping @Sendable () -> String, messageType: some BinaryInteger,
         extraFlags: Int32 = 0, header: [UInt8], attributes: AttributeWriter = AttributeWriter()) {
        self.init(operation: operation(), messageType: messageType,
                  flags: Int32(NLM_F_REQUEST | NLM_F_ACK) | extraFlags,
                  payload: header + attributes.bytes)
    }

    /// The same request with NLM_F_ECHO: the kernel also sends the object it created or
    /// changed back to us (before the ack), which saves a get right after a create.
    func echoing() -> NetlinkRequest {
        NetlinkRequest(operation: operation, messageType: messageType,
                       flags: flags | UInt16(NLM_F_ECHO), payload: payload)
    }

    var isDump: Bool { flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP) }

    /// Whether the kernel answers it (an ack, an error or a dump's end). nfnetlink's batch
    /// begin/end markers ask for nothing and are answered only when the batch is refused.
    var expectsReply: Bool { isDump || flags & UInt16(NLM_F_ACK) != 0 }

    /// nfnetlink's batch begin/end: an error to one of these refuses the whole datagram.
    var isBatchMarker: Bool {
        messageType == UInt16(NFNL_MSG_BATCH_BEGIN) || messageType == UInt16(NFNL_MSG_BATCH_END)
    }

    /// The same request without NLM_F_ACK: the kernel then answers only if it fails.
    var withoutAck: NetlinkRequest {
        NetlinkRequest(operation: operation, messageType: messageType, flags: flags & ~UInt16(NLM_F_ACK), payload: payload)
    }

    /// The request as it goes on the wire. The port id stays 0: the kernel fills in ours.
    func encoded(sequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(sequence: sequence, into: &bytes)
        return bytes
    }

    /// Appends the request as it goes on the wire to `bytes`: a batch of thousands is one
    /// buffer, with no array per header field or per request.
    func encode(sequence: UInt32, into bytes: inout [UInt8]) {
        var header = nlmsghdr(nlmsg_len: UInt32(encodedLength), nlmsg_type: messageType, nlmsg_flags: flags,
                              nlmsg_seq: sequence, nlmsg_pid: 0)
        withUnsafeBytes(of: &header) { bytes += $0 }
        bytes += payload
    }

    /// The size on the wire, without encoding (batches are cut into datagrams by it).
    var encodedLength: Int { Int(cmnl_nlmsg_hdrlen()) + payload.count }

    /// A dump request (NLM_F_DUMP, no ack: the kernel ends a dump with NLMSG_DONE).
    static func dump(operation: @autoclosure @escaping @Sendable () -> String, messageType: some BinaryInteger,
                     header: [UInt8], attributes: AttributeWriter = AttributeWriter()) -> NetlinkRequest {
        NetlinkRequest(operation: operation(), messageType: messageType,
                       flags: Int32(NLM_F_REQUEST | NLM_F_DUMP), payload: header + attributes.bytes)
    }
}
