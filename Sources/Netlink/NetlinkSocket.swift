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
    private let socket: OpaquePointer
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
        guard let socket = mnl_socket_open2(netlinkProtocol, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw NetlinkError(operation: "open netlink \(name) socket", errno: Glibc.errno)
        }
        self.socket = socket
        self.nextSequence = UInt32(truncatingIfNeeded: time(nil))
        // Uninitialized: zeroing 64 KiB touches 16 pages per socket, and most replies are acks
        // that write a few hundred bytes; recv only ever exposes the bytes the kernel wrote.
        self.receiveBuffer = [UInt8](unsafeUninitializedCapacity: Self.receiveBufferSize) { _, count in
            count = Self.receiveBufferSize
        }
        do throws(NetlinkError) {
            try Self.configure(socket, name: name, strictChecking: strictChecking)
        } catch {
            mnl_socket_close(socket)
            throw error
        }
    }

    deinit {
        mnl_socket_close(socket)
    }

    private static func configure(_ socket: OpaquePointer, name: String, strictChecking: Bool) throws(NetlinkError) {
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            throw NetlinkError(operation: "bind netlink \(name) socket", errno: Glibc.errno)
        }
        // Extended acks carry the kernel's reason text; capped acks keep error replies from
        // echoing whole requests back (a batch of errors would otherwise fill the buffer).
        for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] + (strictChecking ? [NETLINK_GET_STRICT_CHK] : []) {
            var on: Int32 = 1
            guard mnl_socket_setsockopt(socket, option, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw NetlinkError(operation: "enable netlink option \(option)", errno: Glibc.errno)
            }
        }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        guard setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout,
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
        let sent = datagram.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        guard sent == datagram.count else {
            throw NetlinkError(operation: operation, errno: sent < 0 ? Glibc.errno : EMSGSIZE)
        }
    }

    /// Reads one datagram, retrying on EINTR. Caller holds the lock.
    func receive(operation: String) throws(NetlinkError) -> [UInt8] {
        while true {
            let count = receiveBuffer.withUnsafeMutableBytes {
                mnl_socket_recvfrom(socket, $0.baseAddress, $0.count)
            }
            if count >= 0 { return Array(receiveBuffer[0..<count]) }
            let failure = Glibc.errno
            if failure != EINTR { throw NetlinkError(operation: operation, errno: failure) }
        }
    }
}
