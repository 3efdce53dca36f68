import CMnl

/// nf_tables requests: set element changes and the dumps DEL, GC and CHECK read.
///
/// Encodings follow what nft 1.0.6 sends (captured with strace, see NftablesEncodingTests),
/// with two deliberate differences: every change asks for an ack (NLM_F_ACK), so the shared
/// socket core can give each message its outcome, and no NFTA_SET_ELEM_LIST_SET_ID, which
/// only names sets created earlier in the same batch (ours always exist by name).
extension NetlinkRequest {
    /// `create element`: fails with EEXIST when an element exists, ENOENT when the table or
    /// set does not.
    package static func createSetElements(_ elements: [NftablesElement], in set: NftablesSet) -> NetlinkRequest {
        setElements(NFT_MSG_NEWSETELEM, "create", elements, set, extraFlags: Int32(NLM_F_CREATE | NLM_F_EXCL))
    }

    /// `add element`: an existing element is left as it is (comment included).
    package static func addSetElements(_ elements: [NftablesElement], in set: NftablesSet) -> NetlinkRequest {
        setElements(NFT_MSG_NEWSETELEM, "add", elements, set, extraFlags: Int32(NLM_F_CREATE))
    }

    /// `delete element`: fails with ENOENT when one is missing. Only keys are sent.
    package static func deleteSetElements(_ elements: [NftablesElement], in set: NftablesSet) -> NetlinkRequest {
        setElements(NFT_MSG_DELSETELEM, "delete", elements.map(\.withoutComment), set)
    }

    /// Every element of a set (NFT_MSG_GETSETELEM dump).
    static func dumpSetElements(in set: NftablesSet) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NFTA_SET_ELEM_LIST_SET.rawValue, string: set.name)
        attributes.append(NFTA_SET_ELEM_LIST_TABLE.rawValue, string: set.table)
        return .dump(operation: "list elements of set \(set)", messageType: nftablesType(NFT_MSG_GETSETELEM),
                     header: nfgenHeader(family: set.family.rawValue), attributes: attributes)
    }

    /// The rules of one chain (NFT_MSG_GETRULE dump, filtered by the kernel).
    static func dumpRules(family: NftablesFamily, table: String, chain: String) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NFTA_RULE_TABLE.rawValue, string: table)
        attributes.append(NFTA_RULE_CHAIN.rawValue, string: chain)
        return .dump(operation: "list rules of chain \(family) \(table) \(chain)", messageType: nftablesType(NFT_MSG_GETRULE),
                     header: nfgenHeader(family: family.rawValue), attributes: attributes)
    }

    /// NFNL_MSG_BATCH_BEGIN / _END: nf_tables changes are only accepted between the two, in
    /// one datagram, and are committed (or aborted) together. Neither asks for an ack.
    static func batchMarker(begin: Bool) -> NetlinkRequest {
        NetlinkRequest(operation: begin ? "nf_tables batch begin" : "nf_tables batch end",
                       messageType: begin ? NFNL_MSG_BATCH_BEGIN : NFNL_MSG_BATCH_END, flags: NLM_F_REQUEST,
                       payload: nfgenHeader(family: UInt8(AF_UNSPEC), resourceID: UInt16(NFNL_SUBSYS_NFTABLES)))
    }

    private static func setElements(
        _ type: nf_tables_msg_types, _ verb: String, _ elements: [NftablesElement], _ set: NftablesSet,
        extraFlags: Int32 = 0
    ) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NFTA_SET_ELEM_LIST_TABLE.rawValue, string: set.table)
        attributes.append(NFTA_SET_ELEM_LIST_SET.rawValue, string: set.name)
        attributes.appendNested(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue, markNested: true) { list in
            for element in elements {
                list.appendNested(NFTA_LIST_ELEM.rawValue, markNested: true) { encode(element, into: &$0) }
            }
        }
        let noun = elements.count == 1 ? "element" : "\(elements.count) elements"
        return NetlinkRequest(operation: "\(verb) \(noun) in set \(set)", messageType: nftablesType(type),
                              extraFlags: extraFlags, header: nfgenHeader(family: set.family.rawValue), attributes: attributes)
    }

    private static func encode(_ element: NftablesElement, into attributes: inout AttributeWriter) {
        attributes.appendNested(NFTA_SET_ELEM_KEY.rawValue, markNested: true) {
            $0.append(NFTA_DATA_VALUE.rawValue, element.key)
        }
        if let keyEnd = element.keyEnd {
            attributes.appendNested(NFTA_SET_ELEM_KEY_END.rawValue, markNested: true) {
                $0.append(NFTA_DATA_VALUE.rawValue, keyEnd)
            }
        }
        if let comment = element.comment {
            attributes.append(NFTA_SET_ELEM_USERDATA.rawValue, NftablesUserData.encode(comment: comment))
        }
    }

    /// nfnetlink message type: subsystem in the high byte.
    private static func nftablesType(_ type: nf_tables_msg_types) -> UInt16 {
        UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(type.rawValue)
    }

    /// struct nfgenmsg: family, NFNETLINK_V0, res_id (big-endian; the subsystem for batch
    /// markers, 0 otherwise).
    private static func nfgenHeader(family: UInt8, resourceID: UInt16 = 0) -> [UInt8] {
        [family, UInt8(NFNETLINK_V0)] + resourceID.networkOrderBytes
    }
}
