import FoundationEssentials
import NetTypes

/// What `nft -j list table inet swift_cni` says about the masquerade table: the elements of
/// our sets with their comments, and how many rules the chain holds.
///
/// Only the parts we act on are decoded; anything else in the listing is skipped, and values
/// that are not addresses of the set's family are ignored rather than passed on.
struct MasqueradeListing: Sendable {
    struct Entry: Hashable, Sendable {
        let element: MasqueradeElement
        let comment: String?
    }

    let entries: [Entry]
    let ruleCount: Int

    init(json: [UInt8]) throws {
        let document = try JSONDecoder().decode(Document.self, from: Data(json))
        var entries: [Entry] = []
        var ruleCount = 0
        for item in document.nftables {
            if let rule = item.rule, rule.chain == MasqueradeRuleset.chain { ruleCount += 1 }
            guard let set = item.set else { continue }
            for listed in set.elem ?? [] {
                if let element = Self.element(in: set.name, listed.value) {
                    entries.append(Entry(element: element, comment: listed.comment))
                }
            }
        }
        self.entries = entries
        self.ruleCount = ruleCount
    }

    /// The entries whose comment names `owner`.
    func entries(of owner: MasqueradeOwner) -> [Entry] {
        entries.filter { $0.comment == owner.comment }
    }

    private static func element(in set: String, _ value: Value) -> MasqueradeElement? {
        let family: IPAddress.Family
        switch set {
        case "masq4", "exempt4": family = .v4
        case "masq6", "exempt6": family = .v6
        default: return nil
        }
        switch (set.hasPrefix("masq"), value) {
        case (true, .text(let text)):
            guard let address = IPAddress(text), address.family == family else { return nil }
            return .source(address)
        case (false, .concat(let parts)) where parts.count == 2:
            guard case .text(let text) = parts[0], let address = IPAddress(text), address.family == family,
                  let subnet = parts[1].prefix, subnet.family == family else { return nil }
            return .exemption(address, subnet)
        default:
            return nil
        }
    }

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
        let value: Value
        let comment: String?

        private struct Body: Decodable {
            let val: Value
            let comment: String?
        }

        private enum Key: String, CodingKey { case elem }

        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: Key.self),
               let body = try keyed.decodeIfPresent(Body.self, forKey: .elem) {
                value = body.val
                comment = body.comment
            } else {
                value = try Value(from: decoder)
                comment = nil
            }
        }
    }

    /// A set key: an address, a prefix, a concatenation, or something we do not use.
    private indirect enum Value: Decodable {
        case text(String)
        case prefix(address: String, length: Int)
        case concat([Value])
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
                if let parts = try keyed.decodeIfPresent([Value].self, forKey: .concat) {
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

        /// The value as a subnet: a bare address is its own single-address prefix.
        var prefix: IPPrefix? {
            switch self {
            case .text(let text):
                guard let address = IPAddress(text) else { return nil }
                return IPPrefix(address: address, length: address.bitWidth)
            case .prefix(let address, let length):
                return IPAddress(address).flatMap { IPPrefix(address: $0, length: length) }?.network
            default:
                return nil
            }
        }
    }
}
