import NIOHTTP1

/// What /healthz, /readyz and /metrics answer: built from the agent's state on the HTTP
/// event loop, so building one must be quick and must never block.
struct HealthResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]

    init(status: HTTPResponseStatus, contentType: String = "text/plain", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    init(status: HTTPResponseStatus, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}

extension Agent {
    /// The monitoring endpoints by path (query already stripped).
    func healthResponse(path: String) -> HealthResponse {
        switch path {
        case "/healthz":
            return HealthResponse(status: .ok, text: "ok\n")
        case "/readyz":
            let r = status.readiness
            let stall = status.stall()
            let ready = r.ready && stall == nil
            let reason = stall.map { $0 + (r.ready ? "" : "; before that: \(r.reason)") } ?? r.reason
            var body = ready ? "ready\n" : "not ready: \(reason)\n"
            for u in r.unreachable { body += "peer unreachable: \(u)\n" }
            return HealthResponse(status: ready ? .ok : .serviceUnavailable, text: body)
        case "/metrics":
            _ = status.stall()  // a stuck loop shows swiftcni_ready 0 too
            return HealthResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: metrics.exposition())
        default:
            return HealthResponse(status: .notFound, text: "not found\n")
        }
    }
}
