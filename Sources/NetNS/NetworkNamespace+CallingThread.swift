import CMnl
#if canImport(Glibc)
import Glibc
#endif

extension NetworkNamespace {
    /// Runs `body` on the calling thread switched into this namespace, then switches the
    /// thread back to the namespace it was in, before returning or rethrowing.
    ///
    /// For the single-threaded plugin processes: `run` starts a thread per call, and on a
    /// loaded node the new thread's wait for a CPU, the hand-back and glibc's per-thread
    /// malloc arena (a 128 MiB reservation) cost a few hundred microseconds to several
    /// milliseconds per ADD; `setns` twice costs two system calls. `body` must not start
    /// threads or wait on other code, which would run in this namespace meanwhile. If the
    /// thread cannot be switched back (the kernel has no reason to refuse: the same process
    /// just switched it away), the process stops rather than keep working in the wrong
    /// namespace.
    ///
    /// `origin`, when the caller already holds the thread's current namespace, saves opening
    /// it again.
    package func runOnCallingThread<T>(returningTo origin: NetworkNamespace? = nil, _ body: () throws -> T) throws -> T {
        let origin = try origin ?? NetworkNamespace.current()
        guard cmnl_setns(fd, cmnl_clone_newnet()) == 0 else {
            throw NamespaceError(path: path, operation: "setns", reason: .system(errno))
        }
        defer {
            if cmnl_setns(origin.fd, cmnl_clone_newnet()) != 0 {
                fatalError("cannot switch the thread back to its network namespace: \(String(cString: strerror(errno)))")
            }
        }
        return try body()
    }
}
