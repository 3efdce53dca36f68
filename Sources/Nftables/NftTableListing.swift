import CNI
import Netlink

/// One of our nftables tables as it is read back: its sets, its one chain, and how an
/// element found in one of the sets becomes a typed element (nil: not one we could have
/// written).
package protocol NftListedTable {
    associatedtype Element: Hashable & Sendable
    static var name: String { get }
    static var chain: String { get }
    static var kernelFamily: NftablesFamily { get }
    /// In listing order.
    static var sets: [NftablesSet] { get }
    static func typed(_ element: NftablesElement, in set: NftablesSet) -> Element?
}

/// What the kernel holds in one of our tables: the elements of its sets with their comments
/// (read in-process, one GETSETELEM dump per set), and how many rules the chain holds. Only
/// elements we could have written are kept; keys of another width or shape are skipped
/// rather than passed on.
package struct NftTableListing<Table: NftListedTable>: Sendable, Equatable {
    package typealias Entry = NftEntry<Table.Element>

    package let entries: [Entry]
    package let ruleCount: Int

    /// The table's contents, or nil when there is no table (nothing was set up). `rules`
    /// costs one more dump and only CHECK needs it (otherwise `ruleCount` is 0).
    package static func read(from socket: NftablesSocket, rules: Bool) throws(NetlinkError) -> Self? {
        guard let entries = try socket.entries(of: Table.sets, typedBy: { Table.typed($1, in: $0) }) else { return nil }
        let ruleCount = rules ? try socket.ruleCountIfPresent(family: Table.kernelFamily, table: Table.name,
                                                                chain: Table.chain) : 0
        return Self(entries: entries, ruleCount: ruleCount)
    }

    /// The entries whose comment names `owner`.
    package func entries(of owner: NftElementOwner) -> [Entry] {
        entries.owned(by: owner)
    }
}

