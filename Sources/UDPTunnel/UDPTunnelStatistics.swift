import NetTypes

/// Traffic with one peer, counted in inner IP packets (after segmentation, before
/// coalescing: what crossed the wire) and their IP bytes.
package struct UDPPeerTraffic: Sendable, Equatable {
    package var packetsIn: UInt64 = 0
    package var bytesIn: UInt64 = 0
    package var packetsOut: UInt64 = 0
    package var bytesOut: UInt64 = 0

    package init(packetsIn: UInt64 = 0, bytesIn: UInt64 = 0, packetsOut: UInt64 = 0, bytesOut: UInt64 = 0) {
        self.packetsIn = packetsIn
        self.bytesIn = bytesIn
        self.packetsOut = packetsOut
        self.bytesOut = bytesOut
    }

    mutating func add(_ other: UDPPeerTraffic) {
        packetsIn += other.packetsIn
        bytesIn += other.bytesIn
        packetsOut += other.packetsOut
        bytesOut += other.bytesOut
    }
}

/// Counters since the tunnel was created, summed over its worker threads.
package struct UDPTunnelStatistics: Sendable, Equatable {
    /// By the peer's subnet; a peer that left keeps its totals.
    package var peers: [IPPrefix: UDPPeerTraffic] = [:]
    /// Every reason, zero included, so a metrics exporter can publish all labels.
    package var drops: [UDPDropReason: UInt64] = Dictionary(uniqueKeysWithValues: UDPDropReason.allCases.map { ($0, 0) })
    /// ICMP net-unreachable messages written back into the TUN device.
    package var unreachablesSent: UInt64 = 0

    package init() {}

    mutating func add(_ other: UDPTunnelStatistics) {
        for (subnet, traffic) in other.peers { peers[subnet, default: UDPPeerTraffic()].add(traffic) }
        for (reason, count) in other.drops { drops[reason, default: 0] += count }
        unreachablesSent += other.unreachablesSent
    }
}
