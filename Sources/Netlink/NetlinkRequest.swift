import CMnl

/// One netlink request (rtnetlink or nf_tables), built but not yet sent.
///
/// Requests are plain values made by the static factories (`.createBridge`, `.addAddress`,
/// ...), so a caller can collect several into one `RouteSocket.perform(_:)` batch, and tests
/// can compare `encoded(sequence:)` to golden bytes without a socket.
public struct NetlinkRequest: Sendable {
    /// Human wording of the request, used as `NetlinkError.operation`.
    public let operation: String
    let messageType: UInt16
    let flags: UInt16
    /// The family header (ifinfomsg, ifaddrmsg, ...) followed by the attributes.
    let payload: [UInt8]

    init(operation: String, messageType: some BinaryInteger, flags: some BinaryInteger, payload: [UInt8]) {
        self.operation = operation
        self.messageType = UInt16(truncatingIfNeeded: messageType)
        self.flags = UInt16(truncatingIfNeeded: flags)
        self.payload = payload
    }

    /// A change request: the kernel acks it, so every one gets an outcome in a batch.
    init(operation: String, messageType: some BinaryInteger, extraFlags: Int32 = 0,
         header: [UInt8], attributes: AttributeWriter = AttributeWriter()) {
        self.init(operation: operation, messageType: messageType,
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

    /// The request as it goes on the wire. The port id stays 0: the kernel fills in ours.
    func encoded(sequence: UInt32) -> [UInt8] {
        let length = Int(cmnl_nlmsg_hdrlen()) + payload.count
        var bytes = UInt32(length).hostOrderBytes
        bytes += messageType.hostOrderBytes
        bytes += flags.hostOrderBytes
        bytes += sequence.hostOrderBytes
        bytes += UInt32(0).hostOrderBytes
        return bytes + payload
    }

    /// A dump request (NLM_F_DUMP, no ack: the kernel ends a dump with NLMSG_DONE).
    static func dump(operation: String, messageType: some BinaryInteger, header: [UInt8],
                     attributes: AttributeWriter = AttributeWriter()) -> NetlinkRequest {
        NetlinkRequest(operation: operation, messageType: messageType,
                       flags: Int32(NLM_F_REQUEST | NLM_F_DUMP), payload: header + attributes.bytes)
    }
}
