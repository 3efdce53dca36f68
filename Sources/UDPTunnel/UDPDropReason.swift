/// Why a packet was not forwarded. Each is counted; the raw value is the metric label. An
/// `Error` only so the pure checks can return `Result<_, UDPDropReason>`.
package enum UDPDropReason: String, Sendable, Hashable, CaseIterable, Error {
    // Datagrams from the underlay.
    /// The sender's address and port are no current peer's.
    case unknownSender
    /// The inner source address lies outside the sending peer's subnet (spoofing).
    case foreignInnerSource
    /// The inner destination lies outside this node's subnet: the tunnel is no open relay.
    case foreignInnerDestination
    /// Shorter than an IPv4 header, or shorter than the header's total length says.
    case truncated
    /// Longer than the header's total length says (trailing bytes).
    case lengthMismatch
    /// Larger than the TUN device's MTU, or than the receive buffer (the kernel cut it).
    case oversized
    /// Not IPv4 (version field), as flannel's UDP mode carries IPv4 only.
    case notIPv4

    // Packets read from the TUN device.
    /// Inside the network but in no peer's subnet: answered with ICMP net unreachable.
    case noRoute
    /// Addressed to this node's own subnet: the TUN route should never carry those.
    case ownSubnetDestination
    /// Addressed outside the cluster network.
    case outsideNetwork
    /// A virtio-net header the tunnel cannot honour (GSO type, sizes, checksum offsets).
    case malformedOffload

    // System calls.
    /// sendmsg/sendmmsg to a peer failed (e.g. no route on the underlay).
    case sendFailed
    /// write to the TUN device failed.
    case tunWriteFailed
}
