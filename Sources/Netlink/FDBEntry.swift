import CMnl
import Glibc
import NetTypes

/// A forwarding-database entry on a VXLAN device: frames for `mac` are tunnelled to the
/// VTEP at `destination`.
package struct FDBEntry: Hashable, Sendable {
    package let index: Int32
    package let mac: MACAddress
    /// The remote VTEP; nil for entries without NDA_DST (local or bridge-learned ones).
    package let destination: IPAddress?
    /// NUD_* bits as the kernel reports them.
    package let state: UInt16

    package var isPermanent: Bool { state & UInt16(NUD_PERMANENT) != 0 }

    package init(index: Int32, mac: MACAddress, destination: IPAddress?, state: UInt16 = FDBEntry.permanentState) {
        self.index = index
        self.mac = mac
        self.destination = destination
        self.state = state
    }

    /// NUD_PERMANENT|NUD_NOARP, what `bridge fdb ... permanent` sets.
    package static let permanentState = UInt16(NUD_PERMANENT | NUD_NOARP)

    /// How a new entry relates to existing ones for the same MAC.
    package enum WriteMode: Sendable {
        /// Add another destination for the MAC (NLM_F_APPEND), as flooding entries need.
        case append
        /// Make this the MAC's only destination, e.g. after a peer's VTEP moved.
        case replace
    }

    /// Parses an RTM_NEWNEIGH message of family AF_BRIDGE.
    init?(_ message: ReceivedMessage) {
        guard message.messageType == UInt16(RTM_NEWNEIGH),
              let header = loadStruct(ndmsg.self, from: message.payload),
              header.ndm_family == UInt8(AF_BRIDGE) else { return nil }
        let attributes = message.attributes(after: ndmsg.self)
        guard let mac = attributes[NDA_LLADDR].flatMap({ MACAddress(bytes: $0) }) else { return nil }
        self.init(index: header.ndm_ifindex, mac: mac,
                  destination: attributes[NDA_DST].flatMap { IPAddress(bytes: $0) }, state: header.ndm_state)
    }
}

extension NetlinkRequest {
    /// A permanent FDB entry on the device itself (NTF_SELF), not on a bridge it belongs to.
    package static func addFDBEntry(mac: MACAddress, destination: IPAddress, index: Int32,
                                   mode: FDBEntry.WriteMode) -> NetlinkRequest {
        let modeFlag = mode == .append ? NLM_F_APPEND : NLM_F_REPLACE
        return NetlinkRequest(operation: "\(mode == .append ? "append" : "replace") fdb \(mac) dst \(destination) on link \(index)",
                              messageType: RTM_NEWNEIGH, extraFlags: NLM_F_CREATE | modeFlag,
                              header: fdbHeader(index: index), attributes: fdbAttributes(mac: mac, destination: destination))
    }

    package static func deleteFDBEntry(mac: MACAddress, destination: IPAddress, index: Int32) -> NetlinkRequest {
        NetlinkRequest(operation: "delete fdb \(mac) dst \(destination) on link \(index)", messageType: RTM_DELNEIGH,
                       header: fdbHeader(index: index), attributes: fdbAttributes(mac: mac, destination: destination))
    }

    private static func fdbHeader(index: Int32) -> [UInt8] {
        neighbourHeader(family: UInt8(AF_BRIDGE), index: index, state: FDBEntry.permanentState, flags: UInt8(NTF_SELF))
    }

    private static func fdbAttributes(mac: MACAddress, destination: IPAddress) -> AttributeWriter {
        var attributes = AttributeWriter()
        attributes.append(NDA_LLADDR, mac.bytes)
        attributes.append(NDA_DST, destination.bytes)
        return attributes
    }
}

extension RouteSocket {
    package func addFDBEntry(mac: MACAddress, destination: IPAddress, index: Int32,
                            mode: FDBEntry.WriteMode) throws(NetlinkError) {
        try perform(.addFDBEntry(mac: mac, destination: destination, index: index, mode: mode))
    }

    package func deleteFDBEntry(mac: MACAddress, destination: IPAddress, index: Int32) throws(NetlinkError) {
        try perform(.deleteFDBEntry(mac: mac, destination: destination, index: index))
    }

    /// The FDB entries of one device (on a VXLAN device: one per MAC and destination).
    package func fdbEntries(index: Int32) throws(NetlinkError) -> [FDBEntry] {
        try dump(.dumpNeighbours(family: UInt8(AF_BRIDGE)))
            .compactMap(FDBEntry.init)
            .filter { $0.index == index }
    }
}
