/// `http://host:port` with an IPv4 address, a bracketed IPv6 address or a host name.
public struct HTTPEndpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Without brackets.
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `http://host[:port][/]`; `https` and paths are refused (no TLS here).
    public init?(url: String, defaultPort: UInt16 = 80) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = Substring(url.dropFirst(7))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { return nil }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else { return nil }
            host = String(parts[0])
            if parts.count == 2 { portText = parts[1] }
        }
        if let portText {
            guard let p = UInt16(portText), p > 0 else { return nil }
            port = p
        } else {
            port = defaultPort
        }
    }

    /// The value of the Host header (and the URL's authority).
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "http://\(hostHeader)" }
}
