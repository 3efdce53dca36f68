import CNI
import IPAM
#if canImport(Glibc)
import Glibc
#endif

/// Talks to the IPAM plugin named by `ipam.type`. When that is our own `host-local` (the
/// binary found on CNI_PATH is the one installed next to this executable), it runs
/// in-process, saving a process start; any other IPAM (including the reference host-local)
/// is executed from CNI_PATH exactly as libcni would.
struct IPAMClient {
    let type: String
    let invocation: Invocation

    func add() throws -> CNIResult {
        if runsInProcess { return try HostLocalPlugin().add(invocation) }
        return try Delegate.add(type: type, invocation: invocation)
    }

    func del() throws {
        if runsInProcess { return try HostLocalPlugin().del(invocation) }
        try Delegate.exec(type: type, command: .del, invocation: invocation)
    }

    func check() throws {
        if runsInProcess { return try HostLocalPlugin().check(invocation) }
        try Delegate.exec(type: type, command: .check, invocation: invocation)
    }

    func gc() throws {
        if runsInProcess { return try HostLocalPlugin().gc(invocation) }
        try Delegate.exec(type: type, command: .gc, invocation: invocation)
    }

    func status() throws {
        if runsInProcess { return try HostLocalPlugin().status(invocation) }
        try Delegate.exec(type: type, command: .status, invocation: invocation)
    }

    /// True when `type` resolves on CNI_PATH to the very file `host-local` next to our own
    /// executable (same device and inode), i.e. this suite's host-local.
    var runsInProcess: Bool {
        guard type == "host-local", let found = Delegate.locate(type, in: invocation.environment) else { return false }
        var selfPath = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &selfPath, selfPath.count - 1)
        guard n > 0 else { return false }
        let exe = String(decoding: selfPath[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = exe.lastIndex(of: "/") else { return false }
        let sibling = exe[..<slash] + "/host-local"
        var a = stat(), b = stat()
        guard stat(found, &a) == 0, stat(String(sibling), &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
