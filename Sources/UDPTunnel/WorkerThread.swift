import Glibc

/// Starts `body` on a plain pthread: the forwarding loops block in system calls and must
/// not hold a Swift concurrency executor thread.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, box)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(box).release()
        return nil
    }
    return thread
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
