import CMnl
import Glibc

/// The TUN device's queues as this tunnel opened them.
struct TunDevice {
    let name: String
    /// One file per queue (one when the device is single-queue).
    let queues: [Int32]
    /// Packets carry a virtio-net header (IFF_VNET_HDR).
    let virtioHeader: Bool
    /// TUN_F_* bits the kernel accepted.
    let offloads: UInt32

    static let wantedOffloads = UInt32(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) | UInt32(cmnl_tun_f_uso4() | cmnl_tun_f_uso6())
    static let tsoOffloads = UInt32(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

    /// Opens (creating if needed) the persistent device `name` with `queues` queues in the
    /// calling thread's network namespace. A device that exists already is attached as it is:
    /// a restarted agent takes over the device, address and route its predecessor left.
    /// A single-queue device (one flanneld created) is attached with one queue.
    static func open(name: String, queues wanted: Int, virtioHeader: Bool, segmentation: Bool = true) throws(UDPTunnelError) -> TunDevice {
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ) else {
            throw UDPTunnelError("TUN device name \"\(name)\"", advice: "1 to \(IFNAMSIZ - 1) bytes")
        }
        var queues: [Int32] = []
        func closeAll() { for fd in queues { close(fd) } }
        let first = try openControl()
        queues.append(first)
        var features: UInt32 = 0
        _ = cmnl_tun_get_features(first, &features)
        let base = Int16(IFF_TUN | IFF_NO_PI) | (virtioHeader ? Int16(IFF_VNET_HDR) : 0)
        var multiQueue = features & UInt32(IFF_MULTI_QUEUE) != 0
        var rc = attach(first, name: name, flags: base | (multiQueue ? Int16(IFF_MULTI_QUEUE) : 0))
        if rc != 0 && errno == EINVAL && multiQueue {
            multiQueue = false  // an existing single-queue device
            rc = attach(first, name: name, flags: base)
        }
        guard rc == 0 else {
            let e = errno
            closeAll()
            throw UDPTunnelError("attach TUN device \(name)", errno: e, advice: advice(for: e))
        }
        guard cmnl_tun_set_persist(first, 1) == 0 else {
            let e = errno
            closeAll()
            throw UDPTunnelError("make TUN device \(name) persistent (TUNSETPERSIST)", errno: e)
        }
        if multiQueue {
            for _ in 1..<max(1, wanted) {
                let fd: Int32
                do { fd = try openControl() } catch { closeAll(); throw error }
                queues.append(fd)
                guard attach(fd, name: name, flags: base | Int16(IFF_MULTI_QUEUE)) == 0 else {
                    let e = errno
                    closeAll()
                    throw UDPTunnelError("attach queue \(queues.count) of TUN device \(name)", errno: e)
                }
            }
        }
        // Offloads are the device's, not the file's: the plain path clears what an earlier
        // offload-path agent set, or the kernel would hand it 64 KiB super-packets.
        var offloads: UInt32 = 0
        if virtioHeader {
            let candidates = segmentation ? [wantedOffloads, tsoOffloads] : [UInt32(TUN_F_CSUM)]
            for candidate in candidates where cmnl_tun_set_offload(first, candidate) == 0 {
                offloads = candidate
                break
            }
        }
        if offloads == 0 && cmnl_tun_set_offload(first, 0) != 0 {
            let e = errno
            closeAll()
            throw UDPTunnelError("clear offloads of TUN device \(name) (TUNSETOFFLOAD)", errno: e)
        }
        return TunDevice(name: name, queues: queues, virtioHeader: virtioHeader, offloads: offloads)
    }

    private static func openControl() throws(UDPTunnelError) -> Int32 {
        let fd = cmnl_open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK, 0)
        guard fd >= 0 else {
            let e = errno
            throw UDPTunnelError("open /dev/net/tun", errno: e, advice: e == ENOENT
                ? "the tun driver is missing: load it (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)"
                : advice(for: e))
        }
        return fd
    }

    private static func attach(_ fd: Int32, name: String, flags: Int16) -> Int32 {
        var out = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        return cmnl_tun_set_iff(fd, name, flags, &out)
    }

    private static func advice(for e: Int32) -> String {
        switch e {
        case EPERM, EACCES: return "needs CAP_NET_ADMIN"
        case EBUSY: return "another process has the device open: is another flanneld or swift-flanneld running?"
        case EINVAL: return "a device of that name exists and is no TUN device, or has other flags: delete it"
        default: return ""
        }
    }
}
