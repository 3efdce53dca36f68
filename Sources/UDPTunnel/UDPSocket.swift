import CMnl
import Glibc

/// The tunnel's UDP socket(s) on the node's public address and port.
enum UDPSocket {
    /// 4 MiB each way: a 64 KiB GSO send or a GRO batch must not find the buffer full.
    static let bufferBytes: Int32 = 4 << 20

    /// A blocking socket (sends wait for room rather than drop; receives use MSG_DONTWAIT).
    /// `reusePort` lets one socket per worker bind the same port, the kernel spreading
    /// senders over them.
    static func open(address: UInt32, port: UInt16, reusePort: Bool) throws(UDPTunnelError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UDPTunnelError("create UDP socket", errno: errno) }
        setBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF)
        setBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF)
        if reusePort {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.bigEndian
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            let text = "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff):\(port)"
            let advice = switch e {
            case EADDRINUSE: "port in use: another flanneld or swift-flanneld, or pick another Backend.Port"
            case EADDRNOTAVAIL: "the address is not on this node: the public address must be local (--iface/--public-ip)"
            case EACCES: "needs root for ports below 1024"
            default: ""
            }
            throw UDPTunnelError("bind UDP \(text)", errno: e, advice: advice)
        }
        return fd
    }

    /// Asks the kernel to hand over GRO-coalesced datagrams (UDP_GRO); false when it cannot.
    static func enableGRO(_ fd: Int32) -> Bool {
        var one: Int32 = 1
        return setsockopt(fd, Int32(SOL_UDP), Int32(UDP_GRO), &one, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// Whether the kernel knows UDP_SEGMENT (GSO on send).
    static func supportsGSO(_ fd: Int32) -> Bool {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, Int32(SOL_UDP), Int32(UDP_SEGMENT), &size, &length) == 0
    }

    private static func setBuffer(_ fd: Int32, _ force: Int32, _ normal: Int32) {
        var bytes = bufferBytes
        if setsockopt(fd, SOL_SOCKET, force, &bytes, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(fd, SOL_SOCKET, normal, &bytes, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    static func address(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.bigEndian
        return sin
    }
}
