/// Beyond flannel, which writes whatever arrives on its port into the node: a packet from
/// the underlay gets in only when it is one whole IPv4 packet, its datagram came from a
/// current peer's address and port, its inner source lies in that peer's subnet (no peer can
/// speak for another's containers) and its inner destination in this node's subnet (the
/// tunnel is no relay into the node's other networks).
struct IngressCheck {
    let ownNetwork: UInt32
    let ownMask: UInt32

    init(ownNetwork: UInt32, ownMask: UInt32) {
        self.ownNetwork = ownNetwork & ownMask
        self.ownMask = ownMask
    }

    /// The index of the peer the packet belongs to, or why it is dropped. `maximumLength`
    /// is the TUN device's MTU: a bigger packet could not have left a peer's flannel0.
    @inline(__always)
    func check(_ p: UnsafeRawPointer, count: Int, table: PeerTable, address: UInt32, port: UInt16,
               maximumLength: Int = 65535) -> Result<Int, UDPDropReason> {
        guard table.isKnownSender(address: address, port: port) else { return .failure(.unknownSender) }
        guard count <= maximumLength else { return .failure(.oversized) }
        if let reason = IPv4Header.validate(p, count: count) { return .failure(reason) }
        let peer = table.sender(address: address, port: port, innerSource: IPv4Header.source(p))
        guard case .success = peer else { return peer }
        guard IPv4Header.destination(p) & ownMask == ownNetwork else { return .failure(.foreignInnerDestination) }
        return peer
    }
}

/// Where a packet read from the TUN device goes: a peer, an ICMP error, or nowhere.
struct EgressRoute {
    let network: UInt32
    let networkMask: UInt32
    let ownNetwork: UInt32
    let ownMask: UInt32

    enum Decision: Equatable {
        case peer(Int)
        case unreachable
        case drop(UDPDropReason)
    }

    @inline(__always) func decide(destination: UInt32, table: PeerTable) -> Decision {
        guard destination & networkMask == network else { return .drop(.outsideNetwork) }
        guard destination & ownMask != ownNetwork else { return .drop(.ownSubnetDestination) }
        if let peer = table.peer(containing: destination) { return .peer(peer) }
        return .unreachable
    }
}
