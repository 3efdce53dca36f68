import CMnl

/// The attributes of a received message (or of one nested attribute), by type.
///
/// Parsing is lenient: a truncated trailing attribute ends the list instead of failing the
/// whole reply, because newer kernels add attributes we do not know and must not trip on.
struct AttributeList {
    struct Entry {
        let type: UInt16
        let payload: [UInt8]
    }

    package let entries: [Entry]

    init(_ bytes: [UInt8]) {
        var entries: [Entry] = []
        let headerLength = Int(cmnl_attr_hdrlen())
        var offset = 0
        while offset + headerLength <= bytes.count {
            let length = Int(UInt16(hostOrderBytes: bytes[offset...])!)
            let rawType = UInt16(hostOrderBytes: bytes[(offset + 2)...])!
            guard length >= headerLength, offset + length <= bytes.count else { break }
            let type = rawType & ~UInt16(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
            entries.append(Entry(type: type, payload: Array(bytes[(offset + headerLength)..<(offset + length)])))
            offset += Int(cmnl_align(length))
        }
        self.entries = entries
    }

    subscript(_ type: some BinaryInteger) -> [UInt8]? {
        let wanted = UInt16(truncatingIfNeeded: type)
        return entries.first { $0.type == wanted }?.payload
    }

    /// Every attribute of the type, in order (VLAN lists repeat a type).
    func all(_ type: some BinaryInteger) -> [[UInt8]] {
        let wanted = UInt16(truncatingIfNeeded: type)
        return entries.filter { $0.type == wanted }.map(\.payload)
    }

    func uint8(_ type: some BinaryInteger) -> UInt8? { self[type]?.first }
    func uint16(_ type: some BinaryInteger) -> UInt16? { self[type].flatMap { UInt16(hostOrderBytes: $0) } }
    func uint32(_ type: some BinaryInteger) -> UInt32? { self[type].flatMap { UInt32(hostOrderBytes: $0) } }
    func int32(_ type: some BinaryInteger) -> Int32? { self[type].flatMap { Int32(hostOrderBytes: $0) } }

    /// A NUL-terminated string attribute, without its terminator.
    func string(_ type: some BinaryInteger) -> String? {
        self[type].map { payload in
            String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    func nested(_ type: some BinaryInteger) -> AttributeList? { self[type].map(AttributeList.init) }
}
