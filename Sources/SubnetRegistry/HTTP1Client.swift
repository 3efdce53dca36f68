/// A minimal HTTP/1.1 client over POSIX sockets for etcd's JSON gateway: POST with a JSON
/// body, responses with Content-Length, chunked or close-delimited bodies, and streamed
/// responses (etcd's watch). Every connect, read and write has a deadline, so an unreachable
/// or stalled server yields an error instead of a hang. One connection per request
/// (`Connection: close`): requests are rare and this keeps failure handling trivial.
public final class HTTP1Client {
    public let endpoint: HTTPEndpoint
    /// Seconds to establish the TCP connection.
    public var connectTimeout: Double
    /// Seconds a plain request may take once connected (streams use their own deadline).
    public var requestTimeout: Double

    public init(endpoint: HTTPEndpoint, connectTimeout: Double = 2, requestTimeout: Double = 10) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// POSTs `body` (JSON) to `path` and reads the whole response.
    public func post(_ path: String, json body: String) throws(HTTPError) -> HTTPResponse {
        let stream = try openStream(path, json: body, headerTimeout: requestTimeout)
        defer { stream.close() }
        let deadline = monotonicNow() + requestTimeout
        var bytes: [UInt8] = []
        while let chunk = try stream.nextBytes(deadline: deadline) { bytes += chunk }
        return HTTPResponse(status: stream.status, headers: stream.headers, body: bytes)
    }

    /// POSTs `body` and returns once the response headers arrived; the caller reads the body
    /// piece by piece with its own deadlines and closes the stream.
    func openStream(_ path: String, json body: String, headerTimeout: Double) throws(HTTPError) -> HTTPStream {
        let connection = try HTTPConnection.open(endpoint, timeout: connectTimeout)
        do {
            let deadline = monotonicNow() + headerTimeout
            let bodyBytes = Array(body.utf8)
            let head = "POST \(path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(bodyBytes.count)\r\n"
                + "Connection: close\r\n\r\n"
            try connection.send(Array(head.utf8) + bodyBytes, deadline: deadline)
            return try HTTPStream(connection: connection, deadline: deadline)
        } catch {
            connection.close()
            throw error
        }
    }
}

/// A finished response.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lowercased, in arrival order.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request failed, naming the endpoint.
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No connection: refused, unreachable, no route, connect timeout, bad address.
        case unreachable
        /// Connected, but the server did not answer in time.
        case timeout
        /// The answer was not HTTP/1.1 we understand, or the connection broke mid-response.
        case protocolError
    }
    public let endpoint: HTTPEndpoint
    public let kind: Kind
    public let reason: String

    public var description: String {
        switch kind {
        case .unreachable: return "\(endpoint) unreachable: \(reason)"
        case .timeout: return "\(endpoint) timed out: \(reason)"
        case .protocolError: return "\(endpoint): \(reason)"
        }
    }
}
