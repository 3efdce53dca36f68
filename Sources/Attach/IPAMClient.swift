import CNI
import IPAM

/// Talks to the IPAM plugin named by `ipam.type`. When that is our own `host-local` (the
/// binary found on CNI_PATH is the one installed next to this executable), it runs
/// in-process, saving a process start; any other IPAM (including the reference host-local)
/// is executed from CNI_PATH exactly as libcni would.
struct IPAMClient {
    let type: String
    let invocation: Invocation

    func add() throws -> CNIResult {
        // The bridge creates the veth before IPAM and its create refuses an existing
        // CNI_IFNAME, so the attachment is new: host-local may skip its duplicate scan.
        if runsInProcess { return try HostLocalPlugin(attachmentKnownNew: true).add(invocation) }
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

    /// Our own host-local, installed next to this executable, runs in-process.
    var runsInProcess: Bool {
        type == "host-local" && Delegate.resolvesToSibling(type, in: invocation.environment)
    }
}
