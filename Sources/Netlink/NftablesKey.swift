import NetTypes

/// Set keys laid out the way nft lays them out, checked against `strace` captures of nft
/// 1.0.6 (Tests/NetlinkTests/NftablesEncodingTests.swift).
///
/// nf_tables compares keys as 32-bit registers: every field of a concatenation starts on a
/// 4-byte boundary, so a 6-byte MAC takes 8 bytes. Addresses are in network order, interface
/// names are IFNAMSIZ (16) bytes, zero-padded.
package enum NftablesKey {
    /// IFNAMSIZ: the width of an `ifname` key.
    package static let interfaceNameLength = 16

    package static func address(_ address: IPAddress) -> [UInt8] { address.bytes }

    package static func interfaceName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(interfaceNameLength))
        return bytes + [UInt8](repeating: 0, count: interfaceNameLength - bytes.count)
    }

    package static func mac(_ mac: MACAddress) -> [UInt8] { mac.bytes }

    /// `a . b . …`: each field zero-padded to a multiple of 4 bytes.
    package static func concatenation(_ fields: [[UInt8]]) -> [UInt8] {
        fields.flatMap { $0 + [UInt8](repeating: 0, count: paddedLength($0.count) - $0.count) }
    }

    /// Splits a concatenated key into fields of the given unpadded lengths; nil when the key
    /// is not exactly that shape.
    package static func fields(of key: [UInt8], lengths: [Int]) -> [[UInt8]]? {
        guard key.count == lengths.map(paddedLength).reduce(0, +) else { return nil }
        var offset = 0
        return lengths.map { length in
            defer { offset += paddedLength(length) }
            return Array(key[offset..<(offset + length)])
        }
    }

    /// An `ifname` key back to the name (up to the first NUL).
    package static func interfaceName(from key: [UInt8]) -> String? {
        guard key.count == interfaceNameLength else { return nil }
        return String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func paddedLength(_ length: Int) -> Int { (length + 3) & ~3 }
}
