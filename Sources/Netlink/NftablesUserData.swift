/// nft's user-data TLVs on a set element (libnftnl udata: type u8, length u8, value), of
/// which we use only the comment. nft writes the comment NUL-terminated, and lists only
/// comments in this form, so ours are readable by `nft list` and theirs by us.
enum NftablesUserData {
    /// NFTNL_UDATA_SET_ELEM_COMMENT.
    static let commentType: UInt8 = 0

    /// The TLV for `comment`. A comment longer than one length byte allows is cut (callers
    /// keep to nft's own 128-byte limit, so this never happens to ours).
    static func encode(comment: String) -> [UInt8] {
        let value = Array(comment.utf8.prefix(Int(UInt8.max) - 1)) + [0]
        return [commentType, UInt8(value.count)] + value
    }

    /// The comment in `bytes`, if there is one; other TLVs are skipped.
    package static func comment(in bytes: [UInt8]) -> String? {
        var offset = 0
        while offset + 2 <= bytes.count {
            let type = bytes[offset], length = Int(bytes[offset + 1])
            let end = offset + 2 + length
            guard end <= bytes.count else { return nil }
            if type == commentType {
                return String(decoding: bytes[(offset + 2)..<end].prefix { $0 != 0 }, as: UTF8.self)
            }
            offset = end
        }
        return nil
    }
}
