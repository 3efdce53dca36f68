/// One element of an nf_tables set as the kernel stores it: key bytes, the end of the range
/// for interval sets, and the comment nft keeps in the element's user data.
///
/// Keys are raw register bytes (see `NftablesKey` for how nft lays out addresses, interface
/// names, MACs and concatenations), so one type serves every set shape we use.
package struct NftablesElement: Hashable, Sendable {
    package let key: [UInt8]
    /// NFTA_SET_ELEM_KEY_END: the last key of the range, for interval sets with
    /// concatenations (nft sends it for every element of such a set, single addresses too).
    package let keyEnd: [UInt8]?
    package let comment: String?

    package init(key: [UInt8], keyEnd: [UInt8]? = nil, comment: String? = nil) {
        self.key = key
        self.keyEnd = keyEnd
        self.comment = comment
    }

    /// The same element without its comment: how a delete (or an ownerless add) names it.
    package var withoutComment: NftablesElement { NftablesElement(key: key, keyEnd: keyEnd) }
}
