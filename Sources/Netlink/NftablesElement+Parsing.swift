import CMnl

extension NftablesElement {
    /// The elements in one NFT_MSG_NEWSETELEM message of a GETSETELEM dump. The kernel splits
    /// a large set over several messages, and ends with one whose element list is empty.
    static func elements(in message: ReceivedMessage) -> [NftablesElement] {
        let attributes = AttributeList(Array(message.payload.dropFirst(nfgenHeaderLength)))
        guard let list = attributes.nested(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) else { return [] }
        return list.all(NFTA_LIST_ELEM.rawValue).compactMap { bytes in
            let element = AttributeList(bytes)
            guard let key = element.nested(NFTA_SET_ELEM_KEY.rawValue)?[NFTA_DATA_VALUE.rawValue] else { return nil }
            return NftablesElement(
                key: key,
                keyEnd: element.nested(NFTA_SET_ELEM_KEY_END.rawValue)?[NFTA_DATA_VALUE.rawValue],
                comment: element[NFTA_SET_ELEM_USERDATA.rawValue].flatMap(NftablesUserData.comment(in:)))
        }
    }

    /// sizeof(struct nfgenmsg).
    static let nfgenHeaderLength = 4
}
