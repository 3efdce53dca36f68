import NetTypes

/// The peers at one moment, indexed both ways the forwarding threads ask: which peer owns
/// an inner destination (egress), and which peer sent a datagram (ingress). Immutable: the
/// agent's lease changes build a new table and swap it in whole, so a worker never sees a
/// half-updated one and reads it without locks.
final class PeerTable: Sendable {
    /// IPv4 peers only (flannel's UDP mode is IPv4 only), in the order given.
    let peers: [UDPPeer]
    /// Per distinct prefix length (longest first): masked network -> peer index.
    private let bySubnet: [(mask: UInt32, networks: [UInt32: Int])]
    /// (public address << 16 | port) -> the peers that use that sender.
    private let bySender: [UInt64: [Int]]

    init(_ peers: [UDPPeer]) {
        let usable = peers.filter { $0.subnet.family == .v4 && $0.publicAddress.family == .v4 }
        self.peers = usable
        var lengths: [Int: [UInt32: Int]] = [:]
        var senders: [UInt64: [Int]] = [:]
        for (index, peer) in usable.enumerated() {
            let mask = Self.mask(peer.subnet.length)
            lengths[peer.subnet.length, default: [:]][Self.v4(peer.subnet.address) & mask] = index
            senders[Self.senderKey(Self.v4(peer.publicAddress), peer.port), default: []].append(index)
        }
        bySubnet = lengths.sorted { $0.key > $1.key }.map { (mask: Self.mask($0.key), networks: $0.value) }
        bySender = senders
    }

    /// The peer whose subnet contains `address` (the longest prefix wins).
    @inline(__always) func peer(containing address: UInt32) -> Int? {
        for level in bySubnet {
            if let index = level.networks[address & level.mask] { return index }
        }
        return nil
    }

    /// The peer a datagram from `address`:`port` carrying an inner packet from `innerSource`
    /// belongs to, or why it is refused.
    @inline(__always) func sender(address: UInt32, port: UInt16, innerSource: UInt32) -> Result<Int, UDPDropReason> {
        guard let candidates = bySender[Self.senderKey(address, port)] else { return .failure(.unknownSender) }
        for index in candidates where Self.contains(peers[index].subnet, innerSource) { return .success(index) }
        return .failure(.foreignInnerSource)
    }

    /// Whether a sender is a peer at all (a whole GRO batch is refused at once when not).
    @inline(__always) func isKnownSender(address: UInt32, port: UInt16) -> Bool {
        bySender[Self.senderKey(address, port)] != nil
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << (32 - UInt32(length)) }

    static func v4(_ address: IPAddress) -> UInt32 {
        if case .v4(let value) = address { return value }
        return 0
    }

    static func contains(_ prefix: IPPrefix, _ address: UInt32) -> Bool {
        let mask = mask(prefix.length)
        return v4(prefix.address) & mask == address & mask
    }

    @inline(__always) static func senderKey(_ address: UInt32, _ port: UInt16) -> UInt64 {
        UInt64(address) << 16 | UInt64(port)
    }
}
