import NIOCore
import NIOHTTP1
import NIOPosix
import NetTypes
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The monitoring endpoints (/healthz, /readyz, /metrics) over HTTP/1.1 on swift-nio: one
/// event loop thread for every listening address, non-blocking throughout, so a probe is
/// answered however many slow, idle or half-finished connections are open. It serves
/// monitoring, not traffic: connections, request sizes and durations are all bounded.
///
/// Addresses are bound by `start`, before the agent programs anything, so an unusable
/// `--listen` is a start-up error; as a Service it serves until graceful shutdown.
final class HealthServer: Service, Sendable {
    struct Limits: Sendable {
        /// A connection with nothing received for this long is closed.
        var idleTimeout: TimeAmount = .seconds(5)
        /// A request must be complete this long after connecting.
        var requestTimeout: TimeAmount = .seconds(10)
        /// Bytes a connection may send (a request for these endpoints is a few hundred).
        var maxRequestBytes = 8 * 1024
        /// Open connections per listener beyond this are closed at once, so a flood of
        /// clients cannot take the file descriptors the agent needs for netlink and the
        /// registry; each listener has its own, so a flood on one leaves the others alone.
        var maxConnections = 64
        /// Open connections from one remote address on a listener that is not loopback:
        /// one host cannot take the whole listener (ConnectionAdmission).
        var maxConnectionsPerRemote = 8
    }

    /// A listening address and the flag it came from (for the operator's error message).
    struct Listener: Sendable {
        var flag: String
        var address: String
    }

    let eventLoops: MultiThreadedEventLoopGroup
    let channels: [any Channel]

    private init(eventLoops: MultiThreadedEventLoopGroup, channels: [any Channel]) {
        self.eventLoops = eventLoops
        self.channels = channels
    }

    /// The bound addresses (with the kernel-chosen port when port 0 was asked for).
    var boundAddresses: [SocketAddress] { channels.compactMap(\.localAddress) }

    /// Binds every listener (duplicates once) or none: the first failure closes what was
    /// bound and is thrown with the flag and the system's reason.
    static func start(listeners: [Listener], limits: Limits = Limits(),
                      respond: @escaping @Sendable (_ path: String) -> HealthResponse) async throws -> HealthServer {
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        var seen: Set<String> = []
        do {
            for listener in listeners where seen.insert(listener.address).inserted {
                let (host, address, port) = try parse(listener)
                let admission = ConnectionAdmission(host: address, limits: limits)
                do {
                    channels.append(try await bootstrap(eventLoops, admission: admission, limits: limits, respond: respond)
                        .bind(host: host, port: port).get())
                } catch {
                    throw AgentError("\(listener.flag) \(listener.address): \(reason(error))")
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            try? await eventLoops.shutdownGracefully()
            throw error
        }
        return HealthServer(eventLoops: eventLoops, channels: channels)
    }

    /// One listener's server: its own admission (caps), the shared event loop and limits.
    private static func bootstrap(_ eventLoops: MultiThreadedEventLoopGroup, admission: ConnectionAdmission, limits: Limits,
                                  respond: @escaping @Sendable (_ path: String) -> HealthResponse) -> ServerBootstrap {
        ServerBootstrap(group: eventLoops)
            .serverChannelOption(.backlog, value: 32)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let remote = channel.remoteAddress?.ipAddress
                guard admission.admit(remote: remote) else { return channel.close() }
                channel.closeFuture.whenComplete { _ in admission.release(remote: remote) }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(RequestSizeLimitHandler(limit: limits.maxRequestBytes))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try pipeline.addHandler(HealthRequestHandler(requestTimeout: limits.requestTimeout, respond: respond))
                }
            }
    }

    /// Serves until graceful shutdown (or cancellation), then stops listening, lets the
    /// connections close and stops the event loop thread.
    func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    func stop() async {
        for channel in channels { try? await channel.close() }
        try? await eventLoops.shutdownGracefully()
    }

    /// `ADDRESS:PORT`, `[IPV6]:PORT` or `:PORT` (all IPv4 addresses).
    static func parse(_ listener: Listener) throws -> (host: String, address: IPAddress, port: Int) {
        let text = listener.address
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw AgentError("\(listener.flag) \(text): expected ADDRESS:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        guard let address = IPAddress(host) else { throw AgentError("\(listener.flag) \(text): \(host) is not an IP address") }
        return (host, address, Int(port))
    }

    /// The system's words for a failed bind ("Address already in use"), not NIO's call site.
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}
