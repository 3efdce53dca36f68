import Glibc
import NetTypes

/// Link convenience methods: one request each, errors thrown.
extension RouteSocket {
    /// Resolves a name in this socket's namespace (never `if_nametoindex`, which answers for
    /// the calling thread's). Nil when there is no such link.
    package func link(named name: String) throws(NetlinkError) -> Link? {
        try singleLink(.getLink(named: name))
    }

    package func link(index: Int32) throws(NetlinkError) -> Link? {
        try singleLink(.getLink(index: index))
    }

    package func links() throws(NetlinkError) -> [Link] {
        try dump(.dumpLinks()).compactMap(Link.init)
    }

    package func createBridge(
        name: String, mtu: Int? = nil, mac: MACAddress? = nil,
        vlanFiltering: Bool = false, defaultPVID: UInt16? = nil
    ) throws(NetlinkError) {
        try perform(.createBridge(name: name, mtu: mtu, mac: mac,
                                  vlanFiltering: vlanFiltering, defaultPVID: defaultPVID))
    }

    /// Creates the pair and returns the `name` end as the kernel echoes it (NLM_F_ECHO), so
    /// the caller needs no lookup: its `parentIndex` is the peer's index in the peer's
    /// namespace. Nil only from a kernel that does not echo link creation.
    @discardableResult
    package func createVethPair(
        name: String, peerName: String, peerNamespaceFD: Int32? = nil,
        mtu: Int? = nil, mac: MACAddress? = nil, peerMac: MACAddress? = nil
    ) throws(NetlinkError) -> Link? {
        let request = NetlinkRequest.createVethPair(name: name, peerName: peerName, peerNamespaceFD: peerNamespaceFD,
                                                    mtu: mtu, mac: mac, peerMac: peerMac)
        return try query(request.echoing()).lazy.compactMap(Link.init).first { $0.name == name }
    }

    package func setLink(
        index: Int32, up: Bool? = nil, mtu: Int? = nil, masterIndex: Int32? = nil,
        mac: MACAddress? = nil, promiscuous: Bool? = nil
    ) throws(NetlinkError) {
        try perform(.setLink(index: index, up: up, mtu: mtu, masterIndex: masterIndex,
                             mac: mac, promiscuous: promiscuous))
    }

    package func deleteLink(index: Int32) throws(NetlinkError) {
        try perform(.deleteLink(index: index))
    }

    private func singleLink(_ request: NetlinkRequest) throws(NetlinkError) -> Link? {
        do {
            return try query(request).lazy.compactMap(Link.init).first
        } catch where error.errno == ENODEV {
            return nil
        }
    }
}
