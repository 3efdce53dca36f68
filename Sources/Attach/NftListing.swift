import CNI
import FoundationEssentials

/// What `nft -j list table …` says about one table, reduced to what our element-based tables
/// act on: every set element with its set name and comment, and the chain of every rule.
///
/// Shared by masquerade and the MAC spoof check, which each turn the raw values into their
/// own typed elements (and ignore values they do not recognise).
struct NftTableListing: Sendable {
    struct Element: Sendable {
        let set: String
        let value: NftValue
        let comment: String?
    }

    let elements: [Element]
    /// The chain of each rule, in listing order.
    let ruleChains: [String]

    init(json: [UInt8]) throws {
        let document = try JSONDecoder().decode(Document.self, from: Data(json))
        var elements: [Element] = []
        var ruleChains: [String] = []
        for item in document.nftables {
            if let rule = item.rule { ruleChains.append(rule.chain) }
            guard let set = item.set else { continue }
            for listed in set.elem ?? [] {
                elements.append(Element(set: set.name, value: listed.value, comment: listed.comment))
            }
        }
        self.elements = elements
        self.ruleChains = ruleChains
    }

    /// The elements `type` recognises (it returns nil for the rest), with their comments.
    func entries<E>(typedBy type: (_ set: String, NftValue) -> E?) -> [NftEntry<E>] {
        elements.compactMap { listed in type(listed.set, listed.value).map { NftEntry(element: $0, comment: listed.comment) } }
    }

    /// How many rules `chain` holds.
    func ruleCount(in chain: String) -> Int { ruleChains.filter { $0 == chain }.count }

    // MARK: - The JSON shape

    private struct Document: Decodable {
        let nftables: [Item]
    }

    private struct Item: Decodable {
        let set: SetObject?
        let rule: RuleObject?
    }

    private struct SetObject: Decodable {
        let name: String
        let elem: [ListedElement]?
    }

    private struct RuleObject: Decodable {
        let chain: String
    }

    /// An element is listed bare (`"10.0.0.5"`) when it has no comment, otherwise as
    /// `{"elem": {"val": …, "comment": …}}`.
    private struct ListedElement: Decodable {
        let value: NftValue
        let comment: String?

        private struct Body: Decodable {
            let val: NftValue
            let comment: String?
        }

        private enum Key: String, CodingKey { case elem }

        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: Key.self),
               let body = try keyed.decodeIfPresent(Body.self, forKey: .elem) {
                value = body.val
                comment = body.comment
            } else {
                value = try NftValue(from: decoder)
                comment = nil
            }
        }
    }
}

/// A set key as nft lists it: text (an address, interface name, MAC …), a prefix, a
/// concatenation, or something we do not use.
indirect enum NftValue: Decodable, Sendable {
    case text(String)
    case prefix(address: String, length: Int)
    case concat([NftValue])
    case other

    private struct PrefixBody: Decodable {
        let addr: String
        let len: Int
    }

    private enum Key: String, CodingKey { case concat, prefix }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            self = .text(text)
        } else if let keyed = try? decoder.container(keyedBy: Key.self) {
            if let parts = try keyed.decodeIfPresent([NftValue].self, forKey: .concat) {
                self = .concat(parts)
            } else if let prefix = try keyed.decodeIfPresent(PrefixBody.self, forKey: .prefix) {
                self = .prefix(address: prefix.addr, length: prefix.len)
            } else {
                self = .other
            }
        } else {
            self = .other
        }
    }
}

/// One typed element of one of our sets, as listed, with the comment that says who owns it.
struct NftEntry<Element: Hashable & Sendable>: Hashable, Sendable {
    let element: Element
    let comment: String?
}

extension Sequence {
    /// The entries whose comment names `owner`.
    func owned<E>(by owner: NftElementOwner) -> [NftEntry<E>] where Element == NftEntry<E> {
        filter { $0.comment == owner.comment }
    }

    /// The elements of `network` whose attachment is not in `valid` (CNI GC). Elements of
    /// other networks and elements with comments we did not write are not included.
    func abandoned<E>(in network: String, keeping valid: Set<Attachment>) -> [E] where Element == NftEntry<E> {
        filter { entry in
            guard let owner = entry.comment.flatMap(NftElementOwner.init(comment:)) else { return false }
            return owner.network == network && !valid.contains(owner.attachment)
        }.map(\.element)
    }
}
