import NetTypes

/// How packets move between the TUN device and the socket.
package enum UDPTunnelPath: Sendable, Equatable {
    /// The offload path when the kernel offers it (TUN virtio-net header with TSO/USO, UDP
    /// GSO and GRO), otherwise `.plain`.
    case automatic
    /// One packet per system call each way, no virtio-net header, no GSO/GRO: flannel's own
    /// model. The fallback, and forced by tests to check that both paths carry the same bytes.
    case plain
}

/// The techniques of the offload path, each of which can be turned off to measure what it
/// contributes (docs/udp-tunnel.md) or to work around a kernel that misbehaves.
package struct UDPTunnelOffloads: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    /// TUN hands over TCP/UDP super-packets (TUNSETOFFLOAD TSO4/6, USO4/6), split by us.
    package static let tunSegmentation = UDPTunnelOffloads(rawValue: 1)
    /// The segments of one super-packet leave in one sendmsg with UDP_SEGMENT.
    package static let udpGSO = UDPTunnelOffloads(rawValue: 2)
    /// Datagrams arrive as UDP_GRO trains and TCP segments are joined before the TUN write.
    package static let udpGRO = UDPTunnelOffloads(rawValue: 4)
    package static let all: UDPTunnelOffloads = [.tunSegmentation, .udpGSO, .udpGRO]
}

/// What the agent knows when it sets up the UDP backend.
package struct UDPTunnelConfiguration: Sendable {
    /// The TUN device, flannel's `flannel0`.
    package var deviceName: String
    /// The address the UDP socket binds (IPv4, the node's public address).
    package var publicAddress: IPAddress
    /// flannel's `Backend.Port`, 8285 by default.
    package var port: UInt16
    /// The cluster network: packets from the TUN to anything outside it are dropped.
    package var network: IPPrefix
    /// This node's lease: the only inner destination accepted from peers.
    package var ownSubnet: IPPrefix
    package var path: UDPTunnelPath
    /// Forwarding worker pairs (one TUN queue and one socket each); nil picks the measured
    /// default (docs/udp-tunnel.md).
    package var workers: Int?
    /// Which offloads `.automatic` may use (all by default).
    package var offloads: UDPTunnelOffloads = .all

    package init(deviceName: String = "flannel0", publicAddress: IPAddress, port: UInt16 = 8285, network: IPPrefix,
                 ownSubnet: IPPrefix, path: UDPTunnelPath = .automatic, workers: Int? = nil, offloads: UDPTunnelOffloads = .all) {
        self.offloads = offloads
        self.deviceName = deviceName
        self.publicAddress = publicAddress
        self.port = port
        self.network = network
        self.ownSubnet = ownSubnet
        self.path = path
        self.workers = workers
    }
}
