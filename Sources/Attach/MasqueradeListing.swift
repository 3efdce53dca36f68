import NetTypes

/// What `nft -j list table inet swift_cni` says about the masquerade table: the elements of
/// our sets with their comments, and how many rules the chain holds.
///
/// Only the parts we act on are decoded; anything else in the listing is skipped, and values
/// that are not addresses of the set's family are ignored rather than passed on.
struct MasqueradeListing: Sendable {
    typealias Entry = NftEntry<MasqueradeElement>

    let entries: [Entry]
    let ruleCount: Int

    init(json: [UInt8]) throws {
        let table = try NftTableListing(json: json)
        entries = table.entries(typedBy: Self.element)
        ruleCount = table.ruleCount(in: MasqueradeRuleset.chain)
    }

    /// The entries whose comment names `owner`.
    func entries(of owner: MasqueradeOwner) -> [Entry] {
        entries.owned(by: owner)
    }

    private static func element(in set: String, _ value: NftValue) -> MasqueradeElement? {
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
}

extension NftValue {
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
