import Netlink
import FlannelCNI
import SubnetRegistry
import Dataplane
import CNI
import NetTypes
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small HTTP/1.1 server for `/healthz`, `/readyz` and `/metrics`: one
/// thread, one request per connection, bounded reads. It serves monitoring, not traffic.
public final class HealthServer: @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
    }

    let fd: Int32
    let handler: @Sendable (_ path: String) -> Response

    /// Binds `host:port` (IPv4) right away so a bad `--listen` fails at start-up.
    public init(listen: String, handler: @escaping @Sendable (_ path: String) -> Response) throws {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]),
              case .v4(let addr)? = IPAddress(listen[..<colon].isEmpty ? "0.0.0.0" : listen[..<colon]) else {
            throw AgentError("--listen \(listen): expected IPv4-ADDRESS:PORT")
        }
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw AgentError("--listen \(listen): socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = addr.bigEndian
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, Glibc.listen(s, 16) == 0 else {
            let e = errno
            close(s)
            throw AgentError("--listen \(listen): \(String(cString: strerror(e)))")
        }
        fd = s
        self.handler = handler
    }

    /// Serves on a detached thread until the process exits.
    public func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { raw in
            let server = Unmanaged<HealthServer>.fromOpaque(raw!).takeRetainedValue()
            server.serve()
            return nil
        }, context)
        pthread_detach(thread)
    }

    func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { if errno == EINTR || errno == ECONNABORTED { continue }; return }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            handle(connection: c)
            close(c)
        }
    }

    func handle(connection c: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192 {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            request += buf[0..<n]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
            if let text = String(validating: request, as: UTF8.self), text.contains("\r\n\r\n") { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: Response
        if parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" {
            let path = String(parts[1].split(separator: "?", maxSplits: 1).first ?? "/")
            response = handler(path)
        } else {
            response = Response(status: 405, contentType: "text/plain", body: "only GET\n")
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][response.status] ?? "Status"
        let body = Array(response.body.utf8)
        let head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + (parts.first == "HEAD" ? [] : body)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(c, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }
}

/// An agent failure with a message meant for the operator's log.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
