import CMnl

/// A VLAN membership on a bridge port (or on the bridge device itself): one vid or a range.
package struct BridgeVLAN: Hashable, Sendable {
    package var vids: ClosedRange<UInt16>
    /// Untagged ingress frames are assigned this vid. Only for a single vid.
    package var isPVID: Bool
    /// Egress frames leave without a tag.
    package var isUntagged: Bool

    package init(vid: UInt16, pvid: Bool = false, untagged: Bool = false) {
        self.vids = vid...vid
        self.isPVID = pvid
        self.isUntagged = untagged
    }

    /// A trunk range, sent as one RANGE_BEGIN/RANGE_END pair instead of one entry per vid.
    package init(vids: ClosedRange<UInt16>, untagged: Bool = false) {
        self.vids = vids
        self.isPVID = false
        self.isUntagged = untagged
    }

    var flags: UInt16 {
        var flags: UInt16 = 0
        if isPVID { flags |= UInt16(BRIDGE_VLAN_INFO_PVID) }
        if isUntagged { flags |= UInt16(BRIDGE_VLAN_INFO_UNTAGGED) }
        return flags
    }

    /// The IFLA_BRIDGE_VLAN_INFO payloads for this entry: one, or a begin/end pair.
    var vlanInfoPayloads: [[UInt8]] {
        if vids.count == 1 { return [Self.vlanInfo(flags: flags, vid: vids.lowerBound)] }
        return [Self.vlanInfo(flags: flags | UInt16(BRIDGE_VLAN_INFO_RANGE_BEGIN), vid: vids.lowerBound),
                Self.vlanInfo(flags: flags | UInt16(BRIDGE_VLAN_INFO_RANGE_END), vid: vids.upperBound)]
    }

    private static func vlanInfo(flags: UInt16, vid: UInt16) -> [UInt8] {
        structBytes(bridge_vlan_info(flags: flags, vid: vid))
    }

    /// Folds a port's IFLA_BRIDGE_VLAN_INFO list (single entries and begin/end pairs, as
    /// RTEXT_FILTER_BRVLAN_COMPRESSED reports them) back into entries.
    static func parseList(_ payloads: [[UInt8]]) -> [BridgeVLAN] {
        var result: [BridgeVLAN] = []
        var rangeStart: UInt16?
        for payload in payloads {
            guard let info = loadStruct(bridge_vlan_info.self, from: payload) else { continue }
            var entry = BridgeVLAN(vid: info.vid)
            entry.isPVID = info.flags & UInt16(BRIDGE_VLAN_INFO_PVID) != 0
            entry.isUntagged = info.flags & UInt16(BRIDGE_VLAN_INFO_UNTAGGED) != 0
            if info.flags & UInt16(BRIDGE_VLAN_INFO_RANGE_BEGIN) != 0 {
                rangeStart = info.vid
            } else if info.flags & UInt16(BRIDGE_VLAN_INFO_RANGE_END) != 0, let start = rangeStart, start <= info.vid {
                result.append(BridgeVLAN(vids: start...info.vid, untagged: entry.isUntagged))
                rangeStart = nil
            } else {
                result.append(entry)
            }
        }
        return result
    }
}
