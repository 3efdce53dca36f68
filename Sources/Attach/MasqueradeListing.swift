import Netlink

/// What the kernel holds in the masquerade table: the elements of our sets with their
/// comments (read in-process, one GETSETELEM dump per set), and how many rules the chain holds.
///
/// Only elements we could have written are kept; keys of another width or ranges that are
/// not a subnet are skipped rather than passed on.
struct MasqueradeListing: Sendable, Equatable {
    typealias Entry = NftEntry<MasqueradeElement>

    let entries: [Entry]
    let ruleCount: Int

    /// The table's contents, or nil when there is no table (nothing was set up). `rules`
    /// costs one more dump and only CHECK needs it (otherwise `ruleCount` is 0).
    static func read(from socket: NftablesSocket, rules: Bool) throws(NetlinkError) -> MasqueradeListing? {
        guard let entries = try socket.entries(of: MasqueradeRuleset.sets, typedBy: MasqueradeElement.init(set:element:)) else { return nil }
        let ruleCount = rules ? try socket.ruleCountIfPresent(family: .inet, table: MasqueradeRuleset.name,
                                                                chain: MasqueradeRuleset.chain) : 0
        return MasqueradeListing(entries: entries, ruleCount: ruleCount)
    }

    /// The entries whose comment names `owner`.
    func entries(of owner: MasqueradeOwner) -> [Entry] {
        entries.owned(by: owner)
    }
}
