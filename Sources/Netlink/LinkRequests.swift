import CMnl
import Glibc
import NetTypes

/// Requests that create, change, delete and read links (RTM_*LINK, family AF_UNSPEC).
///
/// Attribute order follows iproute2 (mtu, address, name, linkinfo) so encodings can be
/// compared with what `ip` sends.
extension NetlinkRequest {
    /// A new bridge. NLM_F_EXCL: an existing link of that name is EEXIST, for the caller to judge.
    package static func createBridge(
        name: String, mtu: Int? = nil, mac: MACAddress? = nil,
        vlanFiltering: Bool = false, defaultPVID: UInt16? = nil
    ) -> NetlinkRequest {
        // Only non-default settings are sent, so a plain bridge works on any kernel.
        var bridgeData: ((inout AttributeWriter) -> Void)?
        if vlanFiltering || defaultPVID != nil {
            bridgeData = { data in
                if vlanFiltering { data.append(IFLA_BR_VLAN_FILTERING, flag: true) }
                if let defaultPVID { data.append(IFLA_BR_VLAN_DEFAULT_PVID, uint16: defaultPVID) }
            }
        }
        return createLink(kind: "bridge", name: name, mtu: mtu, mac: mac, operation: "create bridge \(name)",
                          kindData: bridgeData)
    }

    /// A veth pair in one request: `name` in the socket's namespace and `peerName` created
    /// directly in the namespace open as `peerNamespaceFD` (nil: the same namespace), so
    /// there is no window where the peer sits in the wrong namespace and no move step.
    package static func createVethPair(
        name: String, peerName: String, peerNamespaceFD: Int32? = nil,
        mtu: Int? = nil, mac: MACAddress? = nil, peerMac: MACAddress? = nil
    ) -> NetlinkRequest {
        createLink(kind: "veth", name: name, mtu: mtu, mac: mac, operation: "create veth \(name)/\(peerName)") { data in
            // VETH_INFO_PEER's payload is a whole link description: ifinfomsg + attributes.
            var peer = AttributeWriter()
            appendCommonLinkAttributes(&peer, mtu: mtu, mac: peerMac)
            if let peerNamespaceFD { peer.append(IFLA_NET_NS_FD, uint32: UInt32(bitPattern: peerNamespaceFD)) }
            peer.append(IFLA_IFNAME, string: peerName)
            data.append(VETH_INFO_PEER, linkHeader() + peer.bytes)
        }
    }

    /// Changes only what is given; nil leaves a property as it is.
    package static func setLink(
        index: Int32, up: Bool? = nil, mtu: Int? = nil, masterIndex: Int32? = nil,
        mac: MACAddress? = nil, promiscuous: Bool? = nil, arpNotify: Bool? = nil
    ) -> NetlinkRequest {
        var flags: UInt32 = 0
        var change: UInt32 = 0
        for (wanted, bit) in [(up, UInt32(IFF_UP)), (promiscuous, UInt32(IFF_PROMISC))] {
            guard let wanted else { continue }
            change |= bit
            if wanted { flags |= bit }
        }
        var attributes = AttributeWriter()
        appendCommonLinkAttributes(&attributes, mtu: mtu, mac: mac)
        // Master 0 releases the link from its bridge.
        if let masterIndex { attributes.append(IFLA_MASTER, int32: masterIndex) }
        // net.ipv4.conf.<link>.arp_notify over netlink instead of /proc: IFLA_AF_SPEC →
        // AF_INET → IFLA_INET_CONF → one u32 per devconf entry. The kernel applies it after
        // the flags of the same request, so set it in an earlier request than the one that
        // brings the link up if the up should already announce the link's addresses.
        if let arpNotify {
            attributes.appendNested(IFLA_AF_SPEC) { spec in
                spec.appendNested(UInt16(AF_INET)) { inet in
                    inet.appendNested(IFLA_INET_CONF) { conf in
                        conf.append(cmnl_ipv4_devconf_arp_notify(), uint32: arpNotify ? 1 : 0)
                    }
                }
            }
        }
        return NetlinkRequest(operation: "set link \(index)", messageType: RTM_NEWLINK,
                              header: linkHeader(index: index, flags: flags, change: change),
                              attributes: attributes)
    }

    /// Deletes a link; deleting one end of a veth removes both.
    package static func deleteLink(index: Int32) -> NetlinkRequest {
        NetlinkRequest(operation: "delete link \(index)", messageType: RTM_DELLINK,
                       header: linkHeader(index: index))
    }

    static func getLink(named name: String) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(IFLA_IFNAME, string: name)
        return NetlinkRequest(operation: "get link \(name)", messageType: RTM_GETLINK,
                              header: linkHeader(), attributes: attributes)
    }

    static func getLink(index: Int32) -> NetlinkRequest {
        NetlinkRequest(operation: "get link \(index)", messageType: RTM_GETLINK,
                       header: linkHeader(index: index))
    }

    static func dumpLinks(family: Int32 = AF_UNSPEC, extMask: UInt32? = nil) -> NetlinkRequest {
        var attributes = AttributeWriter()
        if let extMask { attributes.append(IFLA_EXT_MASK, uint32: extMask) }
        return .dump(operation: "list links", messageType: RTM_GETLINK,
                     header: linkHeader(family: family), attributes: attributes)
    }

    /// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL for a link of `kind`; `kindData` fills
    /// IFLA_INFO_DATA, the kind-specific settings (omitted when nil).
    static func createLink(
        kind: String, name: String, mtu: Int?, mac: MACAddress?, operation: String,
        kindData: ((inout AttributeWriter) -> Void)?
    ) -> NetlinkRequest {
        var attributes = AttributeWriter()
        appendCommonLinkAttributes(&attributes, mtu: mtu, mac: mac)
        attributes.append(IFLA_IFNAME, string: name)
        attributes.appendNested(IFLA_LINKINFO) { info in
            info.append(IFLA_INFO_KIND, unterminatedString: kind)
            if let kindData { info.appendNested(IFLA_INFO_DATA, kindData) }
        }
        return NetlinkRequest(operation: operation, messageType: RTM_NEWLINK,
                              extraFlags: NLM_F_CREATE | NLM_F_EXCL, header: linkHeader(), attributes: attributes)
    }

    private static func appendCommonLinkAttributes(_ attributes: inout AttributeWriter, mtu: Int?, mac: MACAddress?) {
        if let mtu { attributes.append(IFLA_MTU, uint32: UInt32(mtu)) }
        if let mac { attributes.append(IFLA_ADDRESS, mac.bytes) }
    }
}
