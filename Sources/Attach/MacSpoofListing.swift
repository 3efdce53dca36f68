import NetTypes

/// What `nft -j list table bridge swift_cni_macspoof` says: the elements of our two sets with
/// their comments, and how many rules the chain holds. Port names that could not have come
/// from us (unsafe to place in a script) and values that are not MACs are skipped.
struct MacSpoofListing: Sendable {
    typealias Entry = NftEntry<MacSpoofElement>

    let entries: [Entry]
    let ruleCount: Int

    init(json: [UInt8]) throws {
        let table = try NftTableListing(json: json)
        entries = table.entries(typedBy: Self.element)
        ruleCount = table.ruleCount(in: MacSpoofRuleset.chain)
    }

    private static func element(in set: String, _ value: NftValue) -> MacSpoofElement? {
        switch (set, value) {
        case ("guarded", .text(let port)) where NftElementOwner.isSafe(port):
            return .guarded(port: port)
        case ("allowed", .concat(let parts)) where parts.count == 2:
            guard case .text(let port) = parts[0], NftElementOwner.isSafe(port),
                  case .text(let text) = parts[1], let mac = MACAddress(text) else { return nil }
            return .allowed(port: port, mac: mac)
        default:
            return nil
        }
    }
}
