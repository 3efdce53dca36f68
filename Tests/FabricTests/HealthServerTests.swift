import Glibc
import NIOCore
import NetTypes
import Testing
@testable import FlannelAgent

/// The monitoring endpoints on swift-nio: answered at once while other clients sit idle,
/// send half a request or send far too much, and idle clients are disconnected after the
/// timeout. Unprivileged: the server listens on 127.0.0.1 with a kernel-chosen port.
@Suite struct HealthServerTests {
    /// Short limits so the timeouts can be watched within a test.
    static let limits = HealthServer.Limits(idleTimeout: .milliseconds(300), requestTimeout: .milliseconds(700),
                                            maxRequestBytes: 4096, maxConnections: 64)

    func withServer(limits: HealthServer.Limits = HealthServerTests.limits,
                    _ body: (_ port: Int, _ agent: Agent) throws -> Void) async throws {
        let agent = Agent(options: AgentOptions())
        let server = try await HealthServer.start(listeners: [.init(flag: "--listen", address: "127.0.0.1:0")], limits: limits) {
            agent.healthResponse(path: $0)
        }
        do {
            try body(try #require(server.boundAddresses.first?.port), agent)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func answersWhileOtherClientsIdleOrSendHalfARequest() async throws {
        try await withServer { port, _ in
            var stalled: [TestClient] = []
            for i in 0..<20 {
                let c = try TestClient(port: port)
                switch i % 3 {
                case 0: break                                       // connects, sends nothing
                case 1: c.send("GET /metr")                         // half a request line
                default: c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")  // a head without its end
                }
                stalled.append(c)
            }
            for path in ["/healthz", "/readyz", "/metrics", "/healthz?verbose=1", "/nope"] {
                let start = monotonicSeconds()
                let response = try TestClient.get(path, port: port)
                let elapsed = monotonicSeconds() - start
                #expect(elapsed < 0.25, "\(path) took \(elapsed) s with 20 stalled clients")
                switch path {
                case "/healthz", "/healthz?verbose=1":
                    #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
                    #expect(response.hasSuffix("\r\n\r\nok\n"))
                case "/readyz":
                    #expect(response.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
                    #expect(response.hasSuffix("\r\n\r\nnot ready: starting\n"))
                case "/metrics":
                    #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
                    #expect(response.lowercased().contains("content-type: text/plain; version=0.0.4\r\n"))
                    #expect(response.contains("\nswiftcni_ready 0.0\n"))
                default:
                    #expect(response.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
                }
            }
            withExtendedLifetime(stalled) {}
        }
    }

    @Test func idleAndUnfinishedConnectionsAreClosedAfterTheTimeout() async throws {
        try await withServer { port, _ in
            let idle = try TestClient(port: port)
            let trickling = try TestClient(port: port)
            let start = monotonicSeconds()
            // A byte every 100 ms keeps the read timeout quiet; the request deadline is not.
            var trickleClosedAt: Double?
            for byte in "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaa".utf8 {
                if !trickling.sendByte(byte) { trickleClosedAt = monotonicSeconds() - start; break }
                usleep(100_000)
                if trickling.isClosedByPeer() { trickleClosedAt = monotonicSeconds() - start; break }
            }
            let idleClosedAt = idle.waitForClose(within: 2.0).map { $0 - start }
            #expect(idleClosedAt != nil, "an idle connection stays open")
            if let t = idleClosedAt { #expect(t >= 0.25 && t < 1.0, "idle connection closed after \(t) s, idle timeout 0.3 s") }
            #expect(trickleClosedAt != nil, "a request trickling in one byte per 100 ms is never cut off")
            if let t = trickleClosedAt { #expect(t >= 0.6 && t < 1.5, "trickling request closed after \(t) s, deadline 0.7 s") }
            #expect(try TestClient.get("/healthz", port: port).hasPrefix("HTTP/1.1 200 OK\r\n"))
        }
    }

    @Test func oversizedRequestsAndExtraConnectionsAreRefused() async throws {
        var limits = Self.limits
        limits.maxConnections = 4
        try await withServer(limits: limits) { port, _ in
            let big = try TestClient(port: port)
            big.send("GET /healthz HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 8192))
            #expect(big.waitForClose(within: 1.0) != nil, "a request over the size limit is not cut off")
            let held = try (0..<4).map { _ in try TestClient(port: port) }
            usleep(50_000)
            let extra = try TestClient(port: port)
            #expect(extra.waitForClose(within: 0.2) != nil, "a connection beyond the limit is kept")
            withExtendedLifetime(held) {}
            for c in held { c.close() }
            usleep(50_000)
            #expect(try TestClient.get("/healthz", port: port).hasPrefix("HTTP/1.1 200 OK\r\n"))
        }
    }

    /// Issue 18 point 6: a flood that fills one listener (flanneld's --healthz-port) leaves
    /// the other (--listen) answering; the flooded one admits again once the flood ends.
    @Test func eachListenerHasItsOwnConnectionCap() async throws {
        // Idle clients stay for the whole test: the flood is not cut short by the idle timeout.
        let limits = HealthServer.Limits(idleTimeout: .seconds(30), requestTimeout: .seconds(30), maxRequestBytes: 4096,
                                         maxConnections: 4)
        let agent = Agent(options: AgentOptions())
        let server = try await HealthServer.start(listeners: [.init(flag: "--listen", address: "127.0.0.1:0"),
                                                              .init(flag: "--healthz-ip/--healthz-port", address: "127.0.0.2:0")],
                                                  limits: limits) { agent.healthResponse(path: $0) }
        let ports = server.boundAddresses.compactMap(\.port)
        do {
            try #require(ports.count == 2)
            let (listen, healthz) = (ports[0], ports[1])
            let flood = try (0..<4).map { _ in try TestClient(host: "127.0.0.2", port: healthz) }
            // The flooded listener is full: one more is turned away at once.
            let extra = try TestClient(host: "127.0.0.2", port: healthz)
            #expect(extra.waitForClose(within: 1.0) != nil, "the flooded listener admits more than its cap")
            for _ in 0..<5 {
                #expect(try TestClient.get("/healthz", port: listen).hasPrefix("HTTP/1.1 200 OK\r\n"),
                        "--listen starved by a flood on the other listener")
            }
            withExtendedLifetime(flood) {}
            for c in flood { c.close() }
            #expect(await eventually(within: 2) {
                (try? TestClient.get("/healthz", host: "127.0.0.2", port: healthz))?.hasPrefix("HTTP/1.1 200 OK\r\n") == true
            }, "the flooded listener admits again once the flood is gone")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func perRemoteCapOnlyOnListenersOtherHostsReach() {
        let limits = HealthServer.Limits()
        #expect(limits.maxConnections == 64 && limits.maxConnectionsPerRemote == 8)
        for host in ["127.0.0.1", "127.1.2.3", "::1"] {
            #expect(ConnectionAdmission(host: IPAddress(host)!, limits: limits).maxPerRemote == nil, "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.168.1.5", "fd00::1"] {
            #expect(ConnectionAdmission(host: IPAddress(host)!, limits: limits).maxPerRemote == 8, "\(host)")
        }
    }

    @Test func oneRemoteAddressCannotTakeAListener() {
        let admission = ConnectionAdmission(maxConnections: 12, maxPerRemote: 8)
        for i in 1...8 { #expect(admission.admit(remote: "10.0.0.9"), "connection \(i)") }
        #expect(!admission.admit(remote: "10.0.0.9"))        // the 9th from one address
        #expect(admission.admit(remote: "10.0.0.10"))        // another address still gets in
        admission.release(remote: "10.0.0.9")
        #expect(admission.admit(remote: "10.0.0.9"))        // a slot freed is a slot again
        for host in 20..<23 { #expect(admission.admit(remote: "10.0.0.\(host)")) }
        #expect(!admission.admit(remote: "10.0.0.250"))      // the listener's own cap (12) holds
        let loopback = ConnectionAdmission(maxConnections: 12, maxPerRemote: nil)
        for _ in 0..<12 { #expect(loopback.admit(remote: "127.0.0.1")) }
        #expect(!loopback.admit(remote: "127.0.0.1"))
        loopback.release(remote: "127.0.0.1")
        #expect(loopback.admit(remote: "127.0.0.1"))
    }

    @Test func headAndOtherMethods() async throws {
        try await withServer { port, _ in
            let head = try TestClient.exchange("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 3\r\n") && head.hasSuffix("\r\n\r\n"))
            let post = try TestClient.exchange("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", port: port)
            #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        }
    }

    @Test func unusableAddressesAreStartUpErrors() async throws {
        let first = try await HealthServer.start(listeners: [.init(flag: "--listen", address: "127.0.0.1:0")]) { _ in
            HealthResponse(status: .ok, text: "")
        }
        let port = try #require(first.boundAddresses.first?.port)
        await #expect(throws: AgentError.self) {
            _ = try await HealthServer.start(listeners: [.init(flag: "--healthz-ip/--healthz-port", address: "127.0.0.1:\(port)")]) { _ in
                HealthResponse(status: .ok, text: "")
            }
        }
        do {
            _ = try await HealthServer.start(listeners: [.init(flag: "--listen", address: "127.0.0.1:\(port)")]) { _ in
                HealthResponse(status: .ok, text: "")
            }
        } catch {
            #expect("\(error)" == "--listen 127.0.0.1:\(port): Address already in use")
        }
        await #expect(throws: AgentError.self) {
            _ = try await HealthServer.start(listeners: [.init(flag: "--listen", address: "localhost:80")]) { _ in
                HealthResponse(status: .ok, text: "")
            }
        }
        await first.stop()
    }
}

/// A blocking TCP client with receive timeouts, to play the slow and the silent client.
final class TestClient {
    let fd: Int32

    init(host: String = "127.0.0.1", port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = UInt16(port).bigEndian
        sa.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Glibc.close(fd); throw AgentError("connect: \(String(cString: strerror(errno)))") }
        setReceiveTimeout(2.0)
    }

    deinit { Glibc.close(fd) }

    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    func setReceiveTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func sendByte(_ byte: UInt8) -> Bool {
        var b = byte
        return Glibc.send(fd, &b, 1, Int32(MSG_NOSIGNAL)) == 1
    }

    /// True when the server has closed its end (EOF or reset), without waiting.
    func isClosedByPeer() -> Bool {
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// The monotonic time the server closed the connection, or nil if it stayed open.
    func waitForClose(within seconds: Double) -> Double? {
        setReceiveTimeout(seconds)
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return monotonicSeconds() }
            if n < 0 { return nil }
        }
    }

    /// Everything until the server closes (it closes after one response).
    func readToEnd() -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func exchange(_ request: String, host: String = "127.0.0.1", port: Int) throws -> String {
        let c = try TestClient(host: host, port: port)
        c.send(request)
        return c.readToEnd()
    }

    static func get(_ path: String, host: String = "127.0.0.1", port: Int) throws -> String {
        try exchange("GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\r\n", host: host, port: port)
    }
}
