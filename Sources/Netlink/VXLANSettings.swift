import CMnl
import NetTypes

/// The settings of a VXLAN device, for creating one and for checking an existing one.
///
/// Flannel-style overlays program every peer by hand (neighbour + FDB entries), so learning
/// is off by default; GBP stays off because it is a presence flag we never send.
package struct VXLANSettings: Hashable, Sendable {
    package var vni: UInt32
    /// The source address for encapsulated packets (the node's public IP).
    package var local: IPAddress?
    /// The underlay device the tunnel is bound to.
    package var underlayIndex: Int32?
    /// UDP destination port; flannel uses 8472 (the Linux default), IANA says 4789.
    package var port: UInt16
    package var learning: Bool

    package init(vni: UInt32, local: IPAddress? = nil, underlayIndex: Int32? = nil,
                port: UInt16 = 8472, learning: Bool = false) {
        self.vni = vni
        self.local = local
        self.underlayIndex = underlayIndex
        self.port = port
        self.learning = learning
    }

    /// IFLA_INFO_DATA for kind "vxlan", in the order iproute2 writes it.
    func encode(into data: inout AttributeWriter) {
        if let underlayIndex { data.append(IFLA_VXLAN_LINK, int32: underlayIndex) }
        data.append(IFLA_VXLAN_ID, uint32: vni)
        if let local { data.append(local.family == .v4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local.bytes) }
        data.append(IFLA_VXLAN_LEARNING, flag: learning)
        // The one network-order integer in rtnetlink link attributes.
        data.append(IFLA_VXLAN_PORT, port.networkOrderBytes)
    }

    /// Reads IFLA_INFO_DATA of a vxlan link; nil without a VNI.
    init?(_ data: AttributeList) {
        guard let vni = data.uint32(IFLA_VXLAN_ID) else { return nil }
        self.vni = vni
        local = (data[IFLA_VXLAN_LOCAL] ?? data[IFLA_VXLAN_LOCAL6]).flatMap { IPAddress(bytes: $0) }
        underlayIndex = data.int32(IFLA_VXLAN_LINK).flatMap { $0 == 0 ? nil : $0 }
        port = data.uint16(IFLA_VXLAN_PORT).map { UInt16(bigEndian: $0) } ?? 8472
        learning = data.uint8(IFLA_VXLAN_LEARNING).map { $0 != 0 } ?? true
    }
}

extension NetlinkRequest {
    /// A new VXLAN device (NLM_F_EXCL: an existing one is EEXIST).
    package static func createVXLAN(name: String, _ settings: VXLANSettings, mtu: Int? = nil,
                                   mac: MACAddress? = nil) -> NetlinkRequest {
        createLink(kind: "vxlan", name: name, mtu: mtu, mac: mac,
                   operation: "create vxlan \(name) (vni \(settings.vni))") { settings.encode(into: &$0) }
    }
}

extension RouteSocket {
    package func createVXLAN(name: String, _ settings: VXLANSettings, mtu: Int? = nil,
                            mac: MACAddress? = nil) throws(NetlinkError) {
        try perform(.createVXLAN(name: name, settings, mtu: mtu, mac: mac))
    }
}
