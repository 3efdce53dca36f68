/// A key in one of our nft sets, typed, so a key read back from a listing is re-rendered from
/// parsed values rather than copied into a script as text.
package protocol NftSetElement: Hashable, Sendable {
    /// The set's name within its table.
    var set: String { get }
    /// The key in nft syntax.
    var key: String { get }
}

/// Script text for element-based tables (masquerade, MAC spoof check) when `nft -f` creates
/// or repairs a table: the per-attachment elements claimed in the same transaction, each
/// tagged with its owner's comment. Everyday ADD/DEL go over netlink (`NftKernelChanges`).
package enum NftScript {
    /// Lines joined into a script, one statement per line.
    package static func lines(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }

    /// Claims the elements for `comment`: an element that already exists (stale, with another
    /// owner's comment) is added, deleted and re-added, so it ends with this comment.
    package static func claim(_ table: String, _ elements: [some NftSetElement], comment: String) -> String {
        lines(elements.flatMap { element in
            [
                "add element \(table) \(element.set) { \(element.key) }",
                "delete element \(table) \(element.set) { \(element.key) }",
                "add element \(table) \(element.set) { \(element.key) comment \"\(comment)\" }",
            ]
        })
    }

    /// Deletes the elements; the `add` first makes it succeed even when a concurrent DEL of
    /// the same attachment removed one since we listed it.
    package static func delete(_ table: String, _ elements: [some NftSetElement]) -> String {
        lines(elements.flatMap { element in
            [
                "add element \(table) \(element.set) { \(element.key) }",
                "delete element \(table) \(element.set) { \(element.key) }",
            ]
        })
    }
}
