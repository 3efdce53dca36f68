import Nftables
import NetTypes

/// The fixed nftables shape that masquerades container traffic, and the script text for it.
///
/// One table, one postrouting nat chain and a fixed pair of rules per IP family that look
/// containers up in sets: adding a container adds set elements, never chains or rules, so
/// ADD costs the same with one container or thousands (the reference's per-container
/// iptables chain makes it grow). Traffic from a container address is masqueraded unless it
/// goes to that address's own subnet (the `exempt` pairs) or to multicast.
enum MasqueradeRuleset {
    static let family = "inet"
    static let name = "swift_cni"
    static let table = "\(family) \(name)"
    static let chain = "postrouting"

    /// The rules in the chain; re-added (after a flush) by every full set-up, so they are
    /// never duplicated and an older ruleset is replaced atomically.
    static let rules = [
        "ip saddr @masq4 ip saddr . ip daddr != @exempt4 ip daddr != 224.0.0.0/4 masquerade",
        "ip6 saddr @masq6 ip6 saddr . ip6 daddr != @exempt6 ip6 daddr != ff00::/8 masquerade",
    ]

    /// Creates what is missing (`add` of an existing table, chain or set is a no-op) and
    /// resets the rules.
    static let skeleton = [
        "add table \(table)",
        "add chain \(table) \(chain) { type nat hook postrouting priority srcnat; policy accept; }",
        "add set \(table) masq4 { type ipv4_addr; }",
        "add set \(table) exempt4 { type ipv4_addr . ipv4_addr; flags interval; }",
        "add set \(table) masq6 { type ipv6_addr; }",
        "add set \(table) exempt6 { type ipv6_addr . ipv6_addr; flags interval; }",
        "flush chain \(table) \(chain)",
    ] + rules.map { "add rule \(table) \(chain) \($0)" }

    /// The elements that masquerade `addresses` (each with its IPAM subnet).
    static func elements(for addresses: [IPPrefix]) -> [MasqueradeElement] {
        var seen = Set<MasqueradeElement>()
        return addresses.flatMap { [MasqueradeElement.source($0.address), .exemption($0.address, $0.network)] }
            .filter { seen.insert($0).inserted }
    }

    /// One transaction: the skeleton, removal of `stale` elements, then each element of
    /// `addresses` claimed for `owner`. An element that already exists (stale, with another
    /// owner's comment) is added, deleted and re-added, so it ends with this owner's comment.
    static func fullSetUpScript(_ owner: MasqueradeOwner, _ addresses: [IPPrefix],
                                removing stale: [MasqueradeElement] = []) -> String {
        NftScript.lines(skeleton) + deleteScript(stale) + NftScript.claim(table, elements(for: addresses), comment: owner.comment)
    }

    /// One transaction deleting `elements`, idempotent (see `NftScript.delete`).
    static func deleteScript(_ elements: [MasqueradeElement]) -> String {
        NftScript.delete(table, elements)
    }
}

/// One key in one of the masquerade sets. Typed, so a key read back from the listing is
/// re-rendered from parsed addresses rather than copied into a script as text.
enum MasqueradeElement: NftSetElement {
    /// A container source address (set masq4/masq6).
    case source(IPAddress)
    /// Traffic from the address to the subnet (host bits cleared) stays unmasqueraded
    /// (set exempt4/exempt6).
    case exemption(IPAddress, IPPrefix)

    var set: String {
        switch self {
        case .source(let address): return address.family == .v4 ? "masq4" : "masq6"
        case .exemption(let address, _): return address.family == .v4 ? "exempt4" : "exempt6"
        }
    }

    /// The key in nft syntax.
    var key: String {
        switch self {
        case .source(let address): return "\(address)"
        case .exemption(let address, let subnet): return "\(address) . \(subnet)"
        }
    }
}
