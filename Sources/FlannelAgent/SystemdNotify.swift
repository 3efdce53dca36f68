#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET`, as flanneld tells a
/// `Type=notify` unit `READY=1` once subnet.env is written (so units ordered after it start
/// with the file in place) and `STOPPING=1` when it shuts down. Without the variable this
/// does nothing; a failed send is not worth stopping the daemon for, so it is only returned.
enum SystemdNotify {
    /// Sends `state` (e.g. `READY=1`) to the socket named by `socketPath` (`$NOTIFY_SOCKET`
    /// by default): a path, or an abstract-namespace name written with a leading `@`.
    /// Returns false when the variable is set but the datagram could not be sent.
    @discardableResult
    static func send(_ state: String, socketPath: String? = SystemdNotify.environmentSocket) -> Bool {
        guard let socketPath, !socketPath.isEmpty else { return true }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        // A path counts its NUL terminator; an abstract name is exactly its bytes.
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (name[0] == 0 ? 0 : 1)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, socklen_t(length)) }
            }
        }
        return sent == message.count
    }

    static var environmentSocket: String? { getenv("NOTIFY_SOCKET").map { String(cString: $0) } }
}

