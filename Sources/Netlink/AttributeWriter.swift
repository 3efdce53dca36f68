import CMnl

/// Builds a sequence of netlink attributes (type-length-value, each padded to 4 bytes).
///
/// Pure value code with no socket, so request encodings can be checked byte for byte in
/// unit tests. Types are taken as any integer because the uapi headers import as a mix of
/// Int, Int32 and UInt32 constants.
struct AttributeWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ type: some BinaryInteger, _ payload: [UInt8]) {
        let length = Int(cmnl_attr_hdrlen()) + payload.count
        bytes += UInt16(length).hostOrderBytes
        bytes += UInt16(truncatingIfNeeded: type).hostOrderBytes
        bytes += payload
        padToAlignment()
    }

    mutating func append(_ type: some BinaryInteger, uint8 value: UInt8) { append(type, [value]) }
    mutating func append(_ type: some BinaryInteger, uint16 value: UInt16) { append(type, value.hostOrderBytes) }
    mutating func append(_ type: some BinaryInteger, uint32 value: UInt32) { append(type, value.hostOrderBytes) }
    mutating func append(_ type: some BinaryInteger, int32 value: Int32) { append(type, value.hostOrderBytes) }
    mutating func append(_ type: some BinaryInteger, flag: Bool) { append(type, uint8: flag ? 1 : 0) }

    /// A NUL-terminated string, as the kernel expects for names and kinds.
    mutating func append(_ type: some BinaryInteger, string: String) {
        append(type, Array(string.utf8) + [0])
    }

    /// A string without the NUL. iproute2 sends IFLA_INFO_KIND this way; the kernel accepts
    /// both forms, and matching `ip` keeps our encodings comparable to its captures.
    mutating func append(_ type: some BinaryInteger, unterminatedString string: String) {
        append(type, Array(string.utf8))
    }

    /// An attribute whose payload is itself a list of attributes.
    ///
    /// `markNested` sets NLA_F_NESTED; some parsers (bridge IFLA_PROTINFO) use it to tell
    /// the nested form from a legacy flat one, while others predate it and go without.
    mutating func appendNested(
        _ type: some BinaryInteger, markNested: Bool = false, _ build: (inout AttributeWriter) -> Void
    ) {
        var inner = AttributeWriter()
        build(&inner)
        let flag = markNested ? UInt16(NLA_F_NESTED) : 0
        append(UInt16(truncatingIfNeeded: type) | flag, inner.bytes)
    }

    private mutating func padToAlignment() {
        let aligned = Int(cmnl_align(bytes.count))
        bytes += [UInt8](repeating: 0, count: aligned - bytes.count)
    }
}
