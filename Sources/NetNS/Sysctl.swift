import CMnl
#if canImport(Glibc)
import Glibc
#endif

/// Network sysctls under /proc/sys. They apply to the namespace of the calling thread, so
/// container-side values are written from inside `NetworkNamespace.run`.
package enum Sysctl {
    /// Writes `value` to `/proc/sys/<key>`; `key` uses slashes ("net/ipv4/ip_forward")
    /// because interface names may contain dots.
    package static func set(_ key: String, _ value: String) throws(NamespaceError) {
        let path = "/proc/sys/" + key
        let fd = cmnl_open(path, O_WRONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw NamespaceError(path: path, operation: "open sysctl", reason: .system(errno)) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw NamespaceError(path: path, operation: "write sysctl", reason: .system(errno)) }
    }

    /// Reads `/proc/sys/<key>` without the trailing newline.
    package static func get(_ key: String) throws(NamespaceError) -> String {
        let path = "/proc/sys/" + key
        let fd = cmnl_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw NamespaceError(path: path, operation: "open sysctl", reason: .system(errno)) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw NamespaceError(path: path, operation: "read sysctl", reason: .system(errno)) }
        var s = String(decoding: buf[0..<n], as: UTF8.self)
        while s.last == "\n" { s.removeLast() }
        return s
    }
}
