import Netlink

/// What the kernel holds in the MAC spoof check table: the elements of our two sets with
/// their comments, and how many rules the chain holds. Port names that could not have come
/// from us and keys of another shape are skipped.
struct MacSpoofListing: Sendable, Equatable {
    typealias Entry = NftEntry<MacSpoofElement>

    let entries: [Entry]
    let ruleCount: Int

    /// The table's contents, or nil when there is no table. `rules` costs one more dump.
    static func read(from socket: NftablesSocket, rules: Bool) throws(NetlinkError) -> MacSpoofListing? {
        guard let entries = try socket.entries(of: MacSpoofRuleset.sets, typedBy: MacSpoofElement.init(set:element:)) else { return nil }
        let ruleCount = rules ? try socket.ruleCountIfPresent(family: .bridge, table: MacSpoofRuleset.name,
                                                                chain: MacSpoofRuleset.chain) : 0
        return MacSpoofListing(entries: entries, ruleCount: ruleCount)
    }
}
