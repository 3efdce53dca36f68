/// One `--etcd-endpoints` entry: `http://` or `https://`, an IPv4 address, a bracketed IPv6
/// address or a host name, and a port (2379 when omitted). Each endpoint keeps its own
/// scheme, so a list may mix plain and TLS members.
package struct EtcdEndpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    package let isTLS: Bool
    /// Without brackets.
    package let host: String
    package let port: UInt16

    package init(isTLS: Bool, host: String, port: UInt16) {
        self.isTLS = isTLS
        self.host = host
        self.port = port
    }

    /// Parses `http[s]://host[:port][/]`; paths are refused (the gateway lives at the root).
    package init?(url: String, defaultPort: UInt16 = 2379) {
        let rest: Substring
        if url.hasPrefix("https://") {
            isTLS = true
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            isTLS = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        guard let (host, port) = Self.authority(rest.hasSuffix("/") ? rest.dropLast() : rest, defaultPort: defaultPort)
        else { return nil }
        self.host = host
        self.port = port
    }

    private static func authority(_ text: Substring, defaultPort: UInt16) -> (String, UInt16)? {
        guard !text.isEmpty, !text.contains("/") else { return nil }
        let host: String
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { return nil }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else { return nil }
            host = String(parts[0])
            if parts.count == 2 { portText = parts[1] }
        }
        guard let portText else { return (host, defaultPort) }
        guard let port = UInt16(portText), port > 0 else { return nil }
        return (host, port)
    }

    /// `host:port`, bracketed for IPv6.
    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    package var description: String { (isTLS ? "https://" : "http://") + authority }

    /// The URL of a gateway path on this endpoint.
    func url(_ path: String) -> String { description + path }
}
