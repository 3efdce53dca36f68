import CMnl
import NetTypes

/// A network interface as RTM_GETLINK reports it.
package struct Link: Hashable, Sendable {
    package let index: Int32
    package let name: String
    /// IFLA_INFO_KIND: "bridge", "veth", "vxlan", ...; nil for physical devices and lo.
    package let kind: String?
    package let mac: MACAddress?
    package let mtu: Int
    /// IFF_UP: administratively up (not whether the carrier is present).
    package let isUp: Bool
    package let isPromiscuous: Bool
    /// The bridge (or other master) this link is enslaved to.
    package let masterIndex: Int32?
    /// IFLA_LINK: for a veth, the peer's index (in the peer's namespace); for a vxlan, the
    /// underlay device.
    package let parentIndex: Int32?
    /// For bridges: whether VLAN filtering is on; nil for other kinds.
    package let vlanFiltering: Bool?
    /// For vxlan links: their settings, so an agent can tell a stale device from a right one.
    package let vxlan: VXLANSettings?

    /// A link as given (decisions over read-back links are tested without a namespace).
    package init(index: Int32, name: String, kind: String? = nil, mac: MACAddress? = nil, mtu: Int = 1500,
                 isUp: Bool = true, isPromiscuous: Bool = false, masterIndex: Int32? = nil, parentIndex: Int32? = nil,
                 vlanFiltering: Bool? = nil, vxlan: VXLANSettings? = nil) {
        self.index = index
        self.name = name
        self.kind = kind
        self.mac = mac
        self.mtu = mtu
        self.isUp = isUp
        self.isPromiscuous = isPromiscuous
        self.masterIndex = masterIndex
        self.parentIndex = parentIndex
        self.vlanFiltering = vlanFiltering
        self.vxlan = vxlan
    }

    /// Parses an RTM_NEWLINK message; nil when the payload is not a link.
    init?(_ message: ReceivedMessage) {
        guard message.messageType == UInt16(RTM_NEWLINK),
              let header = loadStruct(ifinfomsg.self, from: message.payload) else { return nil }
        let attributes = message.attributes(after: ifinfomsg.self)
        guard let name = attributes.string(IFLA_IFNAME) else { return nil }
        let linkInfo = attributes.nested(IFLA_LINKINFO)
        let kind = linkInfo?.string(IFLA_INFO_KIND)
        index = header.ifi_index
        self.name = name
        self.kind = kind
        mac = attributes[IFLA_ADDRESS].flatMap { MACAddress(bytes: $0) }
        mtu = Int(attributes.uint32(IFLA_MTU) ?? 0)
        isUp = header.ifi_flags & UInt32(IFF_UP) != 0
        isPromiscuous = header.ifi_flags & UInt32(IFF_PROMISC) != 0
        masterIndex = attributes.int32(IFLA_MASTER).flatMap { $0 == 0 ? nil : $0 }
        parentIndex = attributes.int32(IFLA_LINK).flatMap { $0 == 0 || $0 == header.ifi_index ? nil : $0 }
        let kindData = linkInfo?.nested(IFLA_INFO_DATA)
        vlanFiltering = kind == "bridge" ? kindData?.uint8(IFLA_BR_VLAN_FILTERING).map { $0 != 0 } : nil
        vxlan = kind == "vxlan" ? kindData.flatMap(VXLANSettings.init) : nil
    }
}
