import Glibc

/// What each forwarding thread keeps between batches: the peer table it works with (and
/// that table's generation), and its uncommitted counts. One per thread, never shared.
struct WorkerState {
    let shared: TunnelShared
    let counters: WorkerCounters
    var local = LocalCounters()
    private(set) var table = PeerTable([])
    private var generation: UInt64 = .max

    init(shared: TunnelShared, counters: WorkerCounters) {
        self.shared = shared
        self.counters = counters
    }

    /// Takes the newest table if the agent swapped one in (flushing the counts made with the
    /// old one first: peer indices change); true when it did.
    @inline(__always) mutating func refresh() -> Bool {
        guard shared.currentGeneration != generation else { return false }
        counters.flush(&local, table: table)
        (table, generation) = shared.snapshot()
        local.reset(peerCount: table.peers.count)
        return true
    }

    mutating func flush() { counters.flush(&local, table: table) }

    /// After a failed read of `fd` with `error`: flushes the counts, then waits for input
    /// (EAGAIN) or a moment (anything else but EINTR: e.g. the device went away; stop() ends
    /// the loop). False when the tunnel stops.
    mutating func idle(_ fd: Int32, error: Int32) -> Bool {
        flush()
        if error == EAGAIN { return waitReadable(fd, shared: shared) }
        if error != EINTR { usleep(50_000) }
        return !shared.isStopping
    }
}
