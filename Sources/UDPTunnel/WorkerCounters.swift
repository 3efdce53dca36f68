import Synchronization

/// One worker thread's counters. The thread counts into `LocalCounters` (plain integers,
/// indexed by the peer's position in the table it is using) and moves them here once per
/// batch; `statistics()` reads every worker's totals under its lock. The lock is contended
/// only while someone reads statistics, so the hot path pays one uncontended lock per batch
/// of up to a few hundred packets, not an atomic per packet.
final class WorkerCounters: Sendable {
    private let totals = Mutex(UDPTunnelStatistics())

    func flush(_ local: inout LocalCounters, table: PeerTable) {
        guard local.isDirty else { return }
        totals.withLock { totals in
            for index in local.touched {
                totals.peers[table.peers[index].subnet, default: UDPPeerTraffic()].add(local.traffic[index])
                local.traffic[index] = UDPPeerTraffic()
            }
            for (ordinal, count) in local.drops.enumerated() where count > 0 {
                totals.drops[UDPDropReason.allCases[ordinal], default: 0] += count
                local.drops[ordinal] = 0
            }
            totals.unreachablesSent += local.unreachablesSent
        }
        local.touched.removeAll(keepingCapacity: true)
        local.unreachablesSent = 0
        local.isDirty = false
    }

    var snapshot: UDPTunnelStatistics { totals.withLock { $0 } }
}

/// A worker's uncommitted counts; only its own thread touches it.
struct LocalCounters {
    var traffic: [UDPPeerTraffic] = []
    var touched: [Int] = []
    var drops = [UInt64](repeating: 0, count: UDPDropReason.allCases.count)
    var unreachablesSent: UInt64 = 0
    var isDirty = false

    /// Sized for a table; call after flushing when the table changes (indices change).
    mutating func reset(peerCount: Int) {
        traffic = Array(repeating: UDPPeerTraffic(), count: peerCount)
        touched.removeAll(keepingCapacity: true)
    }

    @inline(__always) mutating func drop(_ reason: UDPDropReason, _ count: Int = 1) {
        drops[UDPDropReason.ordinal(reason)] += UInt64(count)
        isDirty = true
    }

    @inline(__always) mutating func unreachableSent() {
        unreachablesSent += 1
        isDirty = true
    }

    @inline(__always) mutating func received(peer: Int, packets: Int, bytes: Int) {
        touch(peer)
        traffic[peer].packetsIn += UInt64(packets)
        traffic[peer].bytesIn += UInt64(bytes)
    }

    @inline(__always) mutating func sent(peer: Int, packets: Int, bytes: Int) {
        touch(peer)
        traffic[peer].packetsOut += UInt64(packets)
        traffic[peer].bytesOut += UInt64(bytes)
    }

    @inline(__always) private mutating func touch(_ peer: Int) {
        if traffic[peer] == UDPPeerTraffic() { touched.append(peer) }
        isDirty = true
    }
}

extension UDPDropReason {
    /// Position in `allCases`, for array-indexed counting.
    static func ordinal(_ reason: UDPDropReason) -> Int {
        switch reason {
        case .unknownSender: 0
        case .foreignInnerSource: 1
        case .foreignInnerDestination: 2
        case .truncated: 3
        case .lengthMismatch: 4
        case .oversized: 5
        case .notIPv4: 6
        case .noRoute: 7
        case .ownSubnetDestination: 8
        case .outsideNetwork: 9
        case .malformedOffload: 10
        case .sendFailed: 11
        case .tunWriteFailed: 12
        }
    }
}
