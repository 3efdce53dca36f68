import CNI

/// An open `/v3/watch` response, split into its newline-separated messages. The registry
/// keeps one open across waits: a new stream per wait cost a TCP connection, a request and
/// etcd's set-up each time, and whatever happened in between came back only through a
/// fresh listing.
final class EtcdWatchStream {
    let endpoint: HTTPEndpoint
    private let stream: HTTPStream
    /// Received bytes not yet returned as a line.
    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no newline (large messages arrive in pieces).
    private var scanned = 0

    init(stream: HTTPStream, endpoint: HTTPEndpoint) {
        self.stream = stream
        self.endpoint = endpoint
    }

    deinit { stream.close() }

    /// The next complete message, or nil when none is complete by `deadline` (a deadline in
    /// the past only takes what has already arrived). Throws when the stream broke or ended;
    /// it is unusable then.
    func nextLine(deadline: Double) throws(PluginError) -> [UInt8]? {
        while true {
            if let newline = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = pending.count
            let piece: [UInt8]?
            do throws(HTTPError) {
                piece = try stream.nextBytes(deadline: deadline)
            } catch {
                if error.kind == .timeout { return nil }
                throw EndpointFailure.http(error)
            }
            guard let piece else { throw PluginError(.io, "etcd \(endpoint) closed the watch") }
            pending += piece
        }
    }
}
