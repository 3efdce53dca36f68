#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work on a thread of its own and lets async code await its result. The
/// agent loop blocks in syscalls (registry waits, netlink, sleeps); on Swift concurrency's
/// cooperative pool, which has one thread per core, that would starve every other task.
enum DedicatedThread {
    /// Starts `body` on a new detached pthread and returns its result once it finishes.
    /// Throws only when no thread can be created (`name` says which, for the operator).
    static func run<Result: Sendable>(name: String, _ body: @escaping @Sendable () -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let work = Work { continuation.resume(returning: body()) }
            let retained = Unmanaged.passRetained(work)
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, retained.toOpaque())
            guard rc == 0 else {
                retained.release()
                continuation.resume(throwing: AgentError("cannot start the \(name) thread: \(String(cString: strerror(rc)))"))
                return
            }
            pthread_detach(thread)
        }
    }

    private final class Work: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
