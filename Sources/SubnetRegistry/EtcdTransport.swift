import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP client of one `EtcdRegistry`: async-http-client on a single event loop thread
/// of its own, TLS by swift-nio-ssl, shut down with the registry (an agent that re-creates
/// its registry leaks no threads). Callers are plain threads that block on the response
/// with deadlines; nothing here runs on the caller's behalf once it stopped waiting.
final class EtcdTransport {
    /// Internal, not private: the lifecycle test asks its thread for its id.
    let group: MultiThreadedEventLoopGroup
    private let client: HTTPClient
    private let tls: TLSConfiguration?
    private let connectTimeout: Double

    /// - Parameters:
    ///   - tls: for `https://` endpoints (nil: none of them is TLS).
    ///   - connectTimeout: seconds for TCP and TLS set-up; a failure fails the request at
    ///     once instead of being retried inside the client, so the registry can move on to
    ///     another endpoint.
    init(tls: TLSConfiguration?, connectTimeout: Double) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.tls = tls
        self.connectTimeout = connectTimeout
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.retryConnectionEstablishment = false
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(Int64(connectTimeout * 1e9)), read: nil),  // the watch idles for long
            connectionPool: pool, decompression: .disabled)
        configuration.httpVersion = .http1Only  // the gateway's streamed watch is plain chunked HTTP/1.1
        client = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    deinit {
        try? client.syncShutdown()
        try? group.syncShutdownGracefully()
    }

    /// POSTs `json` to `path` on `endpoint` with etcd's token (when there is one); the
    /// response arrives in the returned body. `timeout`: AHC cancels the request after it
    /// (nil for the watch, which stays open).
    func post(_ endpoint: EtcdEndpoint, _ path: String, json: String, token: String?,
              timeout: Double?) throws(RegistryError) -> (task: HTTPClient.Task<Void>, body: EtcdResponseBody) {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let token, !token.isEmpty { headers.add(name: "Authorization", value: token) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: endpoint.url(path), method: .POST, headers: headers, body: .string(json))
        } catch {
            throw RegistryError(.config, "etcd endpoint \(endpoint) is not a usable URL: \(error)")
        }
        let body = EtcdResponseBody()
        let deadline = timeout.map { NIODeadline.now() + .nanoseconds(Int64($0 * 1e9)) }
        let task = client.execute(request: request, delegate: body, deadline: deadline)
        return (task, body)
    }

    /// etcd's certificate, fetched without verification (see `EtcdServerCertificateProbe`).
    func serverCertificate(_ endpoint: EtcdEndpoint) -> NIOSSLCertificate? {
        guard let tls, endpoint.isTLS else { return nil }
        return EtcdServerCertificateProbe.fetch(endpoint, tls: tls, group: group, timeout: connectTimeout)
    }
}
