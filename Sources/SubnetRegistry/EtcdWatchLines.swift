/// The watch body split into its newline-separated messages, whatever the chunking: a
/// message may arrive in many pieces, and one piece may carry many messages.
struct EtcdWatchLines {
    /// Received bytes not yet returned as a line.
    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no newline (large messages arrive in pieces,
    /// and each piece should not rescan the ones before it).
    private var scanned = 0

    mutating func append(_ bytes: [UInt8]) {
        pending += bytes
    }

    /// The next complete message without its newline, nil until one is complete.
    mutating func next() -> [UInt8]? {
        guard let newline = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = pending.count
            return nil
        }
        let line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        scanned = 0
        return line
    }

    /// Bytes of a message still incomplete.
    var incompleteCount: Int { pending.count }
}
