import CMnl
import NetTypes

/// A neighbour (ARP / NDP) entry: which MAC answers for an IP on a link.
package struct Neighbour: Hashable, Sendable {
    package let index: Int32
    package let address: IPAddress
    /// Nil for entries still being resolved (INCOMPLETE) or that failed.
    package let mac: MACAddress?
    /// NUD_* bits as the kernel reports them.
    package let state: UInt16

    /// Set by hand (or by us): never expires and is never re-resolved.
    package var isPermanent: Bool { state & UInt16(NUD_PERMANENT) != 0 }

    package init(index: Int32, address: IPAddress, mac: MACAddress?, state: UInt16 = UInt16(NUD_PERMANENT)) {
        self.index = index
        self.address = address
        self.mac = mac
        self.state = state
    }

    /// Parses an RTM_NEWNEIGH message of an IP family.
    init?(_ message: ReceivedMessage) {
        guard message.messageType == UInt16(RTM_NEWNEIGH),
              let header = loadStruct(ndmsg.self, from: message.payload),
              IPAddress.Family(socketFamily: header.ndm_family) != nil else { return nil }
        let attributes = message.attributes(after: ndmsg.self)
        guard let address = attributes[NDA_DST].flatMap({ IPAddress(bytes: $0) }) else { return nil }
        self.init(index: header.ndm_ifindex, address: address,
                  mac: attributes[NDA_LLADDR].flatMap { MACAddress(bytes: $0) }, state: header.ndm_state)
    }
}

extension NetlinkRequest {
    /// A permanent neighbour entry (NUD_PERMANENT): the overlay tells the kernel a peer's
    /// MAC instead of letting it ARP. `replace` overwrites an existing entry for the address.
    package static func addNeighbour(_ address: IPAddress, mac: MACAddress, index: Int32,
                                    replace: Bool = false) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NDA_DST, address.bytes)
        attributes.append(NDA_LLADDR, mac.bytes)
        return NetlinkRequest(
            operation: "\(replace ? "replace" : "add") neighbour \(address) lladdr \(mac) on link \(index)",
            messageType: RTM_NEWNEIGH, extraFlags: NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
            header: neighbourHeader(family: address.family.socketFamily, index: index, state: UInt16(NUD_PERMANENT)),
            attributes: attributes)
    }

    /// `ip neigh change <address> lladdr <mac> nud stale dev <index>`: points an entry that
    /// already exists at a new MAC and lets the kernel confirm it on next use (STALE); ENOENT
    /// when there is no entry, which is never created here.
    package static func refreshNeighbour(_ address: IPAddress, mac: MACAddress, index: Int32) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NDA_DST, address.bytes)
        attributes.append(NDA_LLADDR, mac.bytes)
        return NetlinkRequest(
            operation: "refresh neighbour \(address) lladdr \(mac) on link \(index)",
            messageType: RTM_NEWNEIGH, extraFlags: NLM_F_REPLACE,
            header: neighbourHeader(family: address.family.socketFamily, index: index, state: UInt16(NUD_STALE)),
            attributes: attributes)
    }

    package static func deleteNeighbour(_ address: IPAddress, index: Int32) -> NetlinkRequest {
        var attributes = AttributeWriter()
        attributes.append(NDA_DST, address.bytes)
        return NetlinkRequest(
            operation: "delete neighbour \(address) on link \(index)", messageType: RTM_DELNEIGH,
            header: neighbourHeader(family: address.family.socketFamily, index: index, state: UInt16(NUD_PERMANENT)),
            attributes: attributes)
    }

    /// With strict checking on, `index` (NDA_IFINDEX, as `ip neigh show dev` sends it; the
    /// kernel ignores ndm_ifindex in a dump) returns only that link's entries.
    static func dumpNeighbours(family: UInt8, index: Int32? = nil) -> NetlinkRequest {
        var attributes = AttributeWriter()
        if let index { attributes.append(NDA_IFINDEX, uint32: UInt32(bitPattern: index)) }
        return .dump(operation: "list neighbours", messageType: RTM_GETNEIGH,
                     header: neighbourHeader(family: family, index: 0, state: 0), attributes: attributes)
    }
}

extension RouteSocket {
    package func addNeighbour(_ address: IPAddress, mac: MACAddress, index: Int32, replace: Bool = false) throws(NetlinkError) {
        try perform(.addNeighbour(address, mac: mac, index: index, replace: replace))
    }

    package func deleteNeighbour(_ address: IPAddress, index: Int32) throws(NetlinkError) {
        try perform(.deleteNeighbour(address, index: index))
    }

    /// Neighbour entries of one family (nil: both), optionally only on one link.
    package func neighbours(family: IPAddress.Family? = nil, index: Int32? = nil) throws(NetlinkError) -> [Neighbour] {
        try dump(.dumpNeighbours(family: socketFamily(family), index: index))
            .compactMap(Neighbour.init)
            .filter { neighbour in index.map { neighbour.index == $0 } ?? true }
    }
}
