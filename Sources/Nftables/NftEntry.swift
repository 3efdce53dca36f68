import CNI

/// One typed element of one of our sets, as listed, with the comment that says who owns it.
package struct NftEntry<Element: Hashable & Sendable>: Hashable, Sendable {
    package let element: Element
    package let comment: String?
}

extension Sequence {
    /// The entries whose comment names `owner`.
    package func owned<E>(by owner: NftElementOwner) -> [NftEntry<E>] where Element == NftEntry<E> {
        filter { $0.comment == owner.comment }
    }

    /// The elements of `network` whose attachment is not in `valid` (CNI GC). Elements of
    /// other networks and elements with comments we did not write are not included.
    package func abandoned<E>(in network: String, keeping valid: Set<Attachment>) -> [E] where Element == NftEntry<E> {
        filter { entry in
            guard let owner = entry.comment.flatMap(NftElementOwner.init(comment:)) else { return false }
            return owner.network == network && !valid.contains(owner.attachment)
        }.map(\.element)
    }
}
