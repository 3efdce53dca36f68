#if canImport(Glibc)
import CNI
import Glibc
#endif

/// A non-blocking TCP socket whose every wait goes through `poll` with a deadline.
final class HTTPConnection {
    let endpoint: HTTPEndpoint
    private var fd: Int32
    /// Received bytes not consumed yet.
    var buffer: [UInt8] = []

    private init(endpoint: HTTPEndpoint, fd: Int32) {
        self.endpoint = endpoint
        self.fd = fd
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Connects to the first address of `endpoint` that accepts within `timeout` seconds.
    package static func open(_ endpoint: HTTPEndpoint, timeout: Double) throws(HTTPError) -> HTTPConnection {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw HTTPError(endpoint: endpoint, kind: .unreachable, reason: "cannot resolve \(endpoint.host): "
                            + String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        let deadline = monotonicNow() + timeout
        var lastReason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                            | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastReason = String(cString: strerror(errno)); continue }
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return HTTPConnection(endpoint: endpoint, fd: fd)
            }
            guard errno == EINPROGRESS else {
                lastReason = String(cString: strerror(errno))
                Glibc.close(fd)
                continue
            }
            switch waitFor(fd, events: Int16(POLLOUT), deadline: deadline) {
            case .ready:
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError == 0 { return HTTPConnection(endpoint: endpoint, fd: fd) }
                lastReason = String(cString: strerror(soError))
            case .timedOut:
                lastReason = "connect timed out after \(formatSeconds(timeout))"
            case .failed(let e):
                lastReason = String(cString: strerror(e))
            }
            Glibc.close(fd)
        }
        throw HTTPError(endpoint: endpoint, kind: .unreachable, reason: lastReason)
    }

    func send(_ bytes: [UInt8], deadline: Double) throws(HTTPError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n >= 0 { offset += n; continue }
            if errno == EINTR { continue }
            guard errno == EAGAIN else {
                throw HTTPError(endpoint: endpoint, kind: .protocolError, reason: "send failed: \(String(cString: strerror(errno)))")
            }
            try wait(Int16(POLLOUT), deadline: deadline, doing: "sending the request")
        }
    }

    /// Reads more into `buffer`; false at end of stream.
    func fill(deadline: Double) throws(HTTPError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffer += chunk[0..<n]; return true }
            if n == 0 { return false }
            if errno == EINTR { continue }
            guard errno == EAGAIN else {
                throw HTTPError(endpoint: endpoint, kind: .protocolError, reason: "receive failed: \(String(cString: strerror(errno)))")
            }
            try wait(Int16(POLLIN), deadline: deadline, doing: "waiting for the response")
        }
    }

    /// One CRLF-terminated line (without the CRLF).
    func readLine(deadline: Double) throws(HTTPError) -> String {
        while true {
            if let lf = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<lf])
                buffer.removeSubrange(...lf)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 64 * 1024 else {
                throw HTTPError(endpoint: endpoint, kind: .protocolError, reason: "response line longer than 64 KiB")
            }
            guard try fill(deadline: deadline) else {
                throw HTTPError(endpoint: endpoint, kind: .protocolError, reason: "connection closed mid-response")
            }
        }
    }

    private func wait(_ events: Int16, deadline: Double, doing what: String) throws(HTTPError) {
        switch HTTPConnection.waitFor(fd, events: events, deadline: deadline) {
        case .ready: return
        case .timedOut: throw HTTPError(endpoint: endpoint, kind: .timeout, reason: what)
        case .failed(let e):
            throw HTTPError(endpoint: endpoint, kind: .protocolError, reason: "poll: \(String(cString: strerror(e)))")
        }
    }

    private enum WaitResult { case ready, timedOut, failed(Int32) }

    private static func waitFor(_ fd: Int32, events: Int16, deadline: Double) -> WaitResult {
        while true {
            let left = deadline - monotonicNow()
            if left <= 0 { return .timedOut }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&pfd, 1, Int32(min(left, 3600) * 1000) + 1)
            if n > 0 { return .ready }  // errors and hang-ups surface in the next call
            if n < 0 && errno != EINTR { return .failed(errno) }
        }
    }
}

/// "2s", "0.5s": durations in messages.
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))s" : "\(s)s"
}
