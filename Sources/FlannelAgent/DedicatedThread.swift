#if canImport(Glibc)
import Glibc
#endif
import NetNS

/// Runs blocking work on a thread of its own and lets async code await its result. The
/// agent loop blocks in syscalls (registry waits, netlink, sleeps); on Swift concurrency's
/// cooperative pool, which has one thread per core, that would starve every other task.
enum DedicatedThread {
    /// Starts `body` on a new detached pthread and returns its result once it finishes.
    /// Throws only when no thread can be created (`name` says which, for the operator).
    static func run<Result: Sendable>(name: String, _ body: @escaping @Sendable () -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            switch PlainThread.start({ continuation.resume(returning: body()) }) {
            case .success(let thread):
                pthread_detach(thread)
            case .failure(let error):
                continuation.resume(throwing: AgentError("cannot start the \(name) thread: \(error)"))
            }
        }
    }
}
