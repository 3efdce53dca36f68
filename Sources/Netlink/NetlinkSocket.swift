import CMnl
import Glibc

/// The one netlink socket core: every typed request of every netlink family (rtnetlink via
/// `RouteSocket`, nf_tables via `NftablesSocket`) goes through it.
///
/// It belongs to the network namespace of the thread that opened it, for its whole life:
/// open it on a thread that entered (setns/unshare) the target namespace, then use it from
/// any thread. It owns sequence numbers and reads acks itself, matching them by sequence,
/// so a batch of requests yields one outcome per request. Keeping this in one place means
/// ack matching, extended-ack errors, dump retries and datagram limits are written once.
final class NetlinkSocket: @unchecked Sendable {
    /// The socket's file descriptor (SOCK_RAW, close-on-exec).
    private let fd: Int32
    private let lock = ThreadLock()
    /// Guarded by `lock`.
    private var nextSequence: UInt32
    /// Guarded by `lock`; one buffer reused for every recv.
    private var receiveBuffer: [UInt8]

    /// Large enough for any datagram the kernel builds for a dump (it caps them at 32 KiB).
    static let receiveBufferSize = 64 * 1024
    /// A kernel that never answers must not hang a plugin forever.
    static let receiveTimeoutSeconds = 30

    /// Opens a socket of `netlinkProtocol` (NETLINK_ROUTE, NETLINK_NETFILTER) in the calling
    /// thread's network namespace, with extended acks on. `name` words the errors.
    /// `strictChecking` (NETLINK_GET_STRICT_CHK, rtnetlink only) makes the kernel validate
    /// dump requests and apply their filters (link, table), so a dump returns only what was
    /// asked for instead of everything in the namespace.
    init(protocol netlinkProtocol: Int32, name: String, strictChecking: Bool = false) throws(NetlinkError) {
        let fd = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard fd >= 0 else {
            throw NetlinkError(operation: "open netlink \(name) socket", errno: Glibc.errno)
        }
        self.fd = fd
        self.nextSequence = UInt32(truncatingIfNeeded: time(nil))
        // Uninitialized: zeroing 64 KiB touches 16 pages per socket, and most replies are acks
        // that write a few hundred bytes; recv only ever exposes the bytes the kernel wrote.
        self.receiveBuffer = [UInt8](unsafeUninitializedCapacity: Self.receiveBufferSize) { _, count in
            count = Self.receiveBufferSize
        }
        do throws(NetlinkError) {
            try Self.configure(fd, name: name, strictChecking: strictChecking)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        close(fd)
    }

    /// The kernel's address: destination of every request, source of every reply.
    private static let kernel: sockaddr_nl = {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        return address
    }()

    /// Plain socket calls, no libmnl: its socket functions are thin wrappers of these, and
    /// without them the plugins need no shared library at all (they link statically).
    private static func configure(_ fd: Int32, name: String, strictChecking: Bool) throws(NetlinkError) {
        // Port id 0: the kernel assigns one (the process id for the first socket).
        var local = kernel
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            throw NetlinkError(operation: "bind netlink \(name) socket", errno: Glibc.errno)
        }
        // Extended acks carry the kernel's reason text; capped acks keep error replies from
        // echoing whole requests back (a batch of errors would otherwise fill the buffer).
        for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] + (strictChecking ? [NETLINK_GET_STRICT_CHK] : []) {
            var on: Int32 = 1
            guard setsockopt(fd, SOL_NETLINK, option, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw NetlinkError(operation: "enable netlink option \(option)", errno: Glibc.errno)
            }
        }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout,
                         socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw NetlinkError(operation: "set netlink receive timeout", errno: Glibc.errno)
        }
    }

    /// Runs `body` with exclusive use of the socket.
    func withExclusiveAccess<T>(_ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        try lock.withLock(body)
    }

    /// Reserves `count` consecutive sequence numbers. Caller holds the lock.
    func reserveSequences(_ count: Int) -> UInt32 {
        let first = nextSequence
        nextSequence &+= UInt32(count)
        return first
    }

    /// Sends one datagram (one request or a whole batch). Caller holds the lock.
    func send(_ datagram: [UInt8], operation: String) throws(NetlinkError) {
        var destination = Self.kernel
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        guard sent == datagram.count else {
            throw NetlinkError(operation: operation, errno: sent < 0 ? Glibc.errno : EMSGSIZE)
        }
    }

    /// Reads one datagram from the kernel, retrying on EINTR. Caller holds the lock. A
    /// datagram larger than the buffer is an error (ENOSPC) rather than silently cut; one
    /// from another socket (port id not 0: a process, not the kernel) is dropped.
    func receive(operation: String) throws(NetlinkError) -> [UInt8] {
        while true {
            var truncated = false
            var source = sockaddr_nl()
            let count = receiveBuffer.withUnsafeMutableBytes { buffer in
                var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    withUnsafeMutablePointer(to: &source) { sourcePointer in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(sourcePointer)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                        message.msg_iov = vectorPointer
                        message.msg_iovlen = 1
                        let n = recvmsg(fd, &message, 0)
                        truncated = message.msg_flags & Int32(MSG_TRUNC) != 0
                        return n
                    }
                }
            }
            if count >= 0 {
                if source.nl_pid != 0 { continue }
                if truncated { throw NetlinkError(operation: operation, errno: ENOSPC) }
                return Array(receiveBuffer[0..<count])
            }
            let failure = Glibc.errno
            if failure != EINTR { throw NetlinkError(operation: operation, errno: failure) }
        }
    }
}
