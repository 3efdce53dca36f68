import Glibc
import NetNS

/// Starts `body` on a plain pthread: the forwarding loops block in system calls and must
/// not hold a Swift concurrency executor thread.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    try? PlainThread.start(body).get()
}

/// Waits until `fd` is readable or the tunnel stops; false when it stops.
func waitReadable(_ fd: Int32, shared: TunnelShared) -> Bool {
    var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
               pollfd(fd: shared.stopFD, events: Int16(POLLIN), revents: 0)]
    while !shared.isStopping {
        let n = poll(&fds, 2, 1000)
        if n < 0 && errno != EINTR { usleep(10_000) }
        if fds[1].revents != 0 { return false }
        if fds[0].revents != 0 { return true }
    }
    return false
}
