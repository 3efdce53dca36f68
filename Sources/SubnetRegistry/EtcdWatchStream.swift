import AsyncHTTPClient

/// An open `/v3/watch` response, split into its newline-separated messages. The registry
/// keeps one open across waits: a new stream per wait cost a request and etcd's set-up each
/// time, and whatever happened in between came back only through a fresh listing.
final class EtcdWatchStream {
    let endpoint: EtcdEndpoint
    private let task: HTTPClient.Task<Void>
    private let body: EtcdResponseBody
    private let settings: EtcdClientSettings
    private var lines = EtcdWatchLines()
    /// Whether etcd answered at all (the response head came): a stream that never got that
    /// far may be tried on another endpoint.
    private(set) var answered = false

    /// Why the stream cannot go on.
    enum Failure: Error {
        /// The connection failed or ended.
        case broken(RegistryError)
        /// etcd refused the watch (non-200 reply): its gRPC code and message.
        case refused(code: Int?, message: String)
    }

    init(task: HTTPClient.Task<Void>, body: EtcdResponseBody, endpoint: EtcdEndpoint, settings: EtcdClientSettings) {
        self.task = task
        self.body = body
        self.endpoint = endpoint
        self.settings = settings
    }

    deinit { task.cancel() }

    /// The next complete message, or nil when none is complete by `deadline` (a deadline in
    /// the past only takes what has already arrived). Throws when the stream broke, ended or
    /// was refused; it is unusable then.
    func nextLine(deadline: Double) throws(Failure) -> [UInt8]? {
        while true {
            if let line = lines.next() { return line }
            let news = body.take(deadline: deadline)
            if news.status != nil { answered = true }
            if let status = news.status, status != 200 {
                let whole = body.whole(deadline: monotonicNow() + 2)
                let all = news.bytes + whole.bytes
                if !endpoint.isTLS, EtcdTransportFailure.isPlainHTTPToTLS(status: status, body: all) {
                    throw .broken(EtcdTransportFailure.plainHTTPToTLS(endpoint))
                }
                let reply = EtcdErrorReply.decode(status: status, body: all)
                throw .refused(code: reply.code, message: reply.message)
            }
            lines.append(news.bytes)
            if let line = lines.next() { return line }
            if let failure = news.failure {
                throw .broken(EtcdTransportFailure.classify(failure, endpoint: endpoint, requestSent: news.requestSent,
                                                            settings: settings))
            }
            if news.ended { throw .broken(RegistryError(.io, "etcd \(endpoint) closed the watch")) }
            if monotonicNow() >= deadline { return nil }
        }
    }
}
