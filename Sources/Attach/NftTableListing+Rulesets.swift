import Netlink
import Nftables

/// The masquerade table (`MasqueradeRuleset`).
typealias MasqueradeListing = NftTableListing<MasqueradeRuleset>
/// The MAC spoof check table (`MacSpoofRuleset`).
typealias MacSpoofListing = NftTableListing<MacSpoofRuleset>

extension MasqueradeRuleset: NftListedTable {
    static var kernelFamily: NftablesFamily { .inet }
    static func typed(_ element: NftablesElement, in set: NftablesSet) -> MasqueradeElement? {
        MasqueradeElement(set: set, element: element)
    }
}

extension MacSpoofRuleset: NftListedTable {
    static var kernelFamily: NftablesFamily { .bridge }
    static func typed(_ element: NftablesElement, in set: NftablesSet) -> MacSpoofElement? {
        MacSpoofElement(set: set, element: element)
    }
}
