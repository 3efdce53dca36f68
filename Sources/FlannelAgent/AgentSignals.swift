import Netlink
import NetTypes
import FlannelCNI
import SubnetRegistry
import Dataplane
import CNI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM/SIGINT set a flag the agent loop polls between (bounded) waits; the handler does
/// nothing else, which keeps it async-signal-safe.
enum AgentSignals {
    static let stopRequested = Atomic<Bool>(false)

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in AgentSignals.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        signal(SIGPIPE, SIG_IGN)
    }

    static var stopping: Bool { stopRequested.load(ordering: .relaxed) }
}
