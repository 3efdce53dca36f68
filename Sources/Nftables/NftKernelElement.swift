import CNI
import Glibc
import Netlink

/// A typed element of one of our sets, as the kernel stores it: what the in-process
/// nf_tables path adds, lists and deletes.
package protocol NftKernelElement: NftSetElement {
    var nftablesSet: NftablesSet { get }
    /// Key (and range end, for interval sets) laid out as nft lays them out.
    func nftablesElement(comment: String?) -> NftablesElement
}

/// Element changes as nf_tables requests: one message per set and verb, so an attachment's
/// ADD or DEL is a single transaction of a few messages.
package enum NftKernelChanges {
    /// Elements per message; a GC of thousands stays within datagram limits.
    static let elementsPerMessage = 64

    /// `create element` of each, commented for `owner`: fails with EEXIST when one exists,
    /// ENOENT when the table or a set is missing.
    package static func create<E: NftKernelElement>(_ elements: [E], comment: String) -> [NetlinkRequest] {
        bySet(elements).flatMap { set, members in
            chunks(members).map { NetlinkRequest.createSetElements($0.map { $0.nftablesElement(comment: comment) }, in: set) }
        }
    }

    /// Deletes each, idempotently like `NftScript.delete`: an `add` first, so an element a
    /// concurrent DEL removed since we listed it does not fail the transaction.
    package static func delete<E: NftKernelElement>(_ elements: [E]) -> [NetlinkRequest] {
        bySet(elements).flatMap { set, members in
            chunks(members).flatMap { chunk -> [NetlinkRequest] in
                let keys = chunk.map { $0.nftablesElement(comment: nil) }
                return [.addSetElements(keys, in: set), .deleteSetElements(keys, in: set)]
            }
        }
    }

    /// The elements grouped by set, sets in order of first appearance.
    private static func bySet<E: NftKernelElement>(_ elements: [E]) -> [(NftablesSet, [E])] {
        var groups: [(NftablesSet, [E])] = []
        for element in elements {
            if let index = groups.firstIndex(where: { $0.0 == element.nftablesSet }) {
                groups[index].1.append(element)
            } else {
                groups.append((element.nftablesSet, [element]))
            }
        }
        return groups
    }

    private static func chunks<E>(_ elements: [E]) -> [[E]] {
        stride(from: 0, to: elements.count, by: elementsPerMessage).map {
            Array(elements[$0..<min($0 + elementsPerMessage, elements.count)])
        }
    }
}

extension NftablesSocket {
    /// The elements of `sets` that `type` recognises, with comments; nil when none of the
    /// sets exists (no table: nothing was ever set up in this namespace).
    package func entries<E>(of sets: [NftablesSet], typedBy type: (NftablesSet, NftablesElement) -> E?) throws(NetlinkError) -> [NftEntry<E>]? {
        var found = false
        var entries: [NftEntry<E>] = []
        for set in sets {
            do {
                let elements = try elements(of: set)
                found = true
                entries += elements.compactMap { element in type(set, element).map { NftEntry(element: $0, comment: element.comment) } }
            } catch where error.errno == ENOENT {
                continue
            }
        }
        return found ? entries : nil
    }

    /// `commit` for callers with no fallback: a refusal becomes the `PluginError`.
    package func commit(_ changes: [NetlinkRequest], what: String) throws {
        do {
            try commit(changes)
        } catch {
            throw PluginError(.failed, "\(what) failed", details: error.description)
        }
    }
}

extension NftablesSocket {
    /// Rules in the chain; 0 when the chain is missing.
    package func ruleCountIfPresent(family: NftablesFamily, table: String, chain: String) throws(NetlinkError) -> Int {
        do {
            return try ruleCount(family: family, table: table, chain: chain)
        } catch where error.errno == ENOENT {
            return 0
        }
    }
}
