#if canImport(Glibc)
import Glibc
#endif
import NetNS

/// Runs one blocking job on its own OS thread while the caller does other work, then
/// `join()`s it. Plugins use no Swift concurrency; this is what lets DEL wait for two slow
/// kernel operations (the veth deletion and the nf_tables and IPAM work) at
/// the same time instead of one after the other.
final class BackgroundThread: @unchecked Sendable {
    private let body: @Sendable () throws -> Void
    private var thread = pthread_t()
    private var started = false
    /// Written by the thread before it ends; read only after `pthread_join`.
    private var outcome: Result<Void, any Error> = .success(())

    /// Starts `body`; when no thread can be started it runs at `join()` instead.
    init(_ body: @escaping @Sendable () throws -> Void) {
        self.body = body
        if case .success(let thread) = PlainThread.start({ [self] in outcome = Result { try body() } }) {
            self.thread = thread
            started = true
        }
    }

    /// Waits for the job and rethrows its error.
    func join() throws {
        if started {
            pthread_join(thread, nil)
        } else {
            outcome = Result { try body() }
        }
        try outcome.get()
    }
}
