#if canImport(Glibc)
import Glibc
#endif

/// Starts a closure on a plain OS thread: the one place the suite calls `pthread_create`.
///
/// Every user needs a thread that is not Swift concurrency's: a namespace switch (setns
/// changes the calling thread only), a plugin's second blocking kernel job, the agent loop
/// that blocks in system calls, the udp backend's forwarding loops.
package enum PlainThread {
    /// The running thread (to join, or to detach), or the errno `pthread_create` returned.
    /// The closure is handed over to the thread and released when it ends.
    package static func start(_ body: @escaping @Sendable () -> Void) -> Result<pthread_t, ThreadStartError> {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return .failure(ThreadStartError(errno: rc))
        }
        return .success(thread)
    }

    private final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

/// `pthread_create` failed (EAGAIN: a thread or memory limit).
package struct ThreadStartError: Error, CustomStringConvertible, Sendable {
    package let errno: Int32
    package var description: String { String(cString: strerror(errno)) }
}
