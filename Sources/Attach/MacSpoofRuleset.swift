import Nftables
import NetTypes

/// The fixed nftables shape of the bridge plugin's `macspoofchk`, and the script text for it.
///
/// The reference plugin adds two chains and a jump rule per container to `table bridge nat`,
/// so every frame walks a list that grows with the node. Here one bridge-family table holds
/// one prerouting chain with one rule, and containers are set elements: the host-side veth
/// goes into `guarded`, the pair (that veth, the container interface's MAC) into `allowed`.
/// A frame entering the bridge from a guarded port is dropped unless its source MAC is the
/// one allowed for that port — the reference's semantics, at the reference's hook and
/// priority (filter, prerouting, -300: before anything else on the bridge sees the frame).
enum MacSpoofRuleset {
    static let family = "bridge"
    static let name = "swift_cni_macspoof"
    static let table = "\(family) \(name)"
    static let chain = "prerouting"

    /// The chain's only rule; re-added (after a flush) by every full set-up.
    static let rule = "iifname @guarded iifname . ether saddr != @allowed drop"

    /// Creates what is missing (`add` of an existing table, chain or set is a no-op) and
    /// resets the rule.
    static let skeleton = [
        "add table \(table)",
        "add chain \(table) \(chain) { type filter hook prerouting priority -300; policy accept; }",
        "add set \(table) guarded { type ifname; }",
        "add set \(table) allowed { type ifname . ether_addr; }",
        "flush chain \(table) \(chain)",
        "add rule \(table) \(chain) \(rule)",
    ]

    /// The elements that let only `mac` in through the bridge port `port`.
    static func elements(port: String, mac: MACAddress) -> [MacSpoofElement] {
        [.guarded(port: port), .allowed(port: port, mac: mac)]
    }

    /// One transaction: the skeleton, removal of `stale` elements, then the port's elements
    /// claimed for `owner`.
    static func fullSetUpScript(_ owner: NftElementOwner, port: String, mac: MACAddress,
                                removing stale: [MacSpoofElement] = []) -> String {
        NftScript.lines(skeleton) + deleteScript(stale)
            + NftScript.claim(table, elements(port: port, mac: mac), comment: owner.comment)
    }

    /// One transaction deleting `elements`, idempotent (see `NftScript.delete`).
    static func deleteScript(_ elements: [MacSpoofElement]) -> String {
        NftScript.delete(table, elements)
    }
}

/// One key in one of the MAC spoof check sets.
enum MacSpoofElement: NftSetElement {
    /// Frames entering the bridge from this port are checked (set `guarded`).
    case guarded(port: String)
    /// This source MAC may enter the bridge from this port (set `allowed`).
    case allowed(port: String, mac: MACAddress)

    var set: String {
        switch self {
        case .guarded: return "guarded"
        case .allowed: return "allowed"
        }
    }

    var port: String {
        switch self {
        case .guarded(let port), .allowed(let port, _): return port
        }
    }

    /// Port names are quoted: nft reads a bare word as a symbol, not an interface name.
    var key: String {
        switch self {
        case .guarded(let port): return "\"\(port)\""
        case .allowed(let port, let mac): return "\"\(port)\" . \(mac)"
        }
    }
}
