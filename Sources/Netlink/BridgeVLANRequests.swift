import CMnl
import Glibc

/// Bridge VLAN filtering entries: RTM_SETLINK (add) / RTM_DELLINK (delete) with family
/// AF_BRIDGE and an IFLA_AF_SPEC list, as `bridge vlan add|del` sends them.
extension NetlinkRequest {
    /// `onBridgeItself` sets BRIDGE_FLAGS_SELF: the entries apply to the bridge device's own
    /// port (traffic to the host) instead of the enslaved port `index`.
    package static func addBridgeVLANs(index: Int32, _ vlans: [BridgeVLAN], onBridgeItself: Bool = false) -> NetlinkRequest {
        bridgeVLANRequest(verb: "add", messageType: RTM_SETLINK, index: index, vlans, onBridgeItself: onBridgeItself)
    }

    package static func deleteBridgeVLANs(index: Int32, _ vlans: [BridgeVLAN], onBridgeItself: Bool = false) -> NetlinkRequest {
        bridgeVLANRequest(verb: "delete", messageType: RTM_DELLINK, index: index, vlans, onBridgeItself: onBridgeItself)
    }

    private static func bridgeVLANRequest(
        verb: String, messageType: Int, index: Int32, _ vlans: [BridgeVLAN], onBridgeItself: Bool
    ) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.appendNested(IFLA_AF_SPEC) { spec in
            if onBridgeItself { spec.append(IFLA_BRIDGE_FLAGS, uint16: UInt16(BRIDGE_FLAGS_SELF)) }
            for payload in vlans.flatMap(\.vlanInfoPayloads) { spec.append(IFLA_BRIDGE_VLAN_INFO, payload) }
        }
        let vids = vlans.map { $0.vids.count == 1 ? "\($0.vids.lowerBound)" : "\($0.vids.lowerBound)-\($0.vids.upperBound)" }
        return NetlinkRequest(operation: "\(verb) bridge vlan \(vids.joined(separator: ",")) on link \(index)",
                              messageType: messageType,
                              header: linkHeader(family: AF_BRIDGE, index: index), attributes: attributes)
    }
}

extension RouteSocket {
    package func addBridgeVLANs(index: Int32, _ vlans: [BridgeVLAN], onBridgeItself: Bool = false) throws(NetlinkError) {
        try perform(.addBridgeVLANs(index: index, vlans, onBridgeItself: onBridgeItself))
    }

    package func deleteBridgeVLANs(index: Int32, _ vlans: [BridgeVLAN], onBridgeItself: Bool = false) throws(NetlinkError) {
        try perform(.deleteBridgeVLANs(index: index, vlans, onBridgeItself: onBridgeItself))
    }

    /// The VLANs configured on a bridge port (or on a bridge's own port).
    package func bridgeVLANs(index: Int32) throws(NetlinkError) -> [BridgeVLAN] {
        let request = NetlinkRequest.dumpLinks(family: AF_BRIDGE, extMask: UInt32(RTEXT_FILTER_BRVLAN_COMPRESSED))
        for message in try dump(request) where message.messageType == UInt16(RTM_NEWLINK) {
            guard let header = loadStruct(ifinfomsg.self, from: message.payload), header.ifi_index == index else { continue }
            let attributes = message.attributes(after: ifinfomsg.self)
            guard let spec = attributes.nested(IFLA_AF_SPEC) else { continue }
            return BridgeVLAN.parseList(spec.all(IFLA_BRIDGE_VLAN_INFO))
        }
        return []
    }
}
