import CMnl
import Glibc
@testable import Netlink

/// A named throwaway namespace `nft-<pid>-<n>` for nf_tables tests: `nft` (via `ip netns
/// exec`) builds the skeleton and reads back what we wrote, our socket is opened inside it.
/// `remove()` deletes it; tests call it in a `defer`, so a failing test does not leak it.
final class NftablesNamespace {
    let name: String
    let socket: NftablesSocket

    static var isAvailable: Bool {
        geteuid() == 0 && access("/usr/sbin/ip", X_OK) == 0 && access("/usr/sbin/nft", X_OK) == 0
    }

    init() throws {
        name = "nft-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard system("/usr/sbin/ip netns add \(name)") == 0 else {
            throw NetlinkError(operation: "ip netns add \(name)", errno: EIO)
        }
        let path = "/run/netns/\(name)"
        var outcome: Result<NftablesSocket, NetlinkError> = .failure(NetlinkError(operation: "start thread", errno: EAGAIN))
        runOnNewThread {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            defer { if fd >= 0 { close(fd) } }
            guard fd >= 0, cmnl_setns(fd, cmnl_clone_newnet()) == 0 else {
                outcome = .failure(NetlinkError(operation: "enter \(path)", errno: errno))
                return
            }
            outcome = Result { () throws(NetlinkError) in try NftablesSocket() }
        }
        do {
            socket = try outcome.get()
        } catch {
            _ = system("/usr/sbin/ip netns del \(name)")
            throw error
        }
    }

    func remove() { _ = system("/usr/sbin/ip netns del \(name)") }

    /// Runs an nft script inside the namespace; true when nft succeeded.
    @discardableResult
    func nft(_ script: String) -> Bool {
        let file = "/tmp/\(name).nft"
        guard let handle = fopen(file, "w") else { return false }
        fputs(script, handle)
        fclose(handle)
        defer { unlink(file) }
        return system("/usr/sbin/ip netns exec \(name) /usr/sbin/nft -f \(file)") == 0
    }

    /// nft's own text for `list <what>` inside the namespace.
    func list(_ what: String) -> String {
        guard let pipe = popen("/usr/sbin/ip netns exec \(name) /usr/sbin/nft list \(what) 2>&1", "r") else { return "" }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(cString: buffer)
        }
        pclose(pipe)
        return output
    }
}
