import Synchronization

/// What the forwarding threads share with the agent's thread: the current peer table (an
/// immutable value swapped whole, with a generation number so a worker notices a swap by
/// one relaxed load per batch instead of taking the lock), the stop flag, and the fixed
/// routing facts from the configuration.
final class TunnelShared: Sendable {
    private let table = Mutex(PeerTable([]))
    private let generation = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    let egress: EgressRoute
    let ingress: IngressCheck
    /// The read end of a pipe that becomes readable when the tunnel stops: every idle
    /// worker polls it next to its TUN queue or socket.
    let stopFD: Int32

    init(egress: EgressRoute, ingress: IngressCheck, stopFD: Int32) {
        self.egress = egress
        self.ingress = ingress
        self.stopFD = stopFD
    }

    func replace(_ peers: [UDPPeer]) {
        let new = PeerTable(peers)
        table.withLock { $0 = new }
        generation.add(1, ordering: .releasing)
    }

    var currentGeneration: UInt64 { generation.load(ordering: .acquiring) }

    /// The table and its generation, read together.
    func snapshot() -> (PeerTable, UInt64) {
        table.withLock { ($0, generation.load(ordering: .acquiring)) }
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }
    func markStopping() { stopping.store(true, ordering: .relaxed) }
}
