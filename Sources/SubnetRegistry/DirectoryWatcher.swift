#if canImport(Glibc)
import Glibc
#endif
import CNI

/// Change notification for the subnets directory: inotify when the kernel gives us an
/// instance, otherwise a 100 ms poll comparing names and mtimes with the last state seen.
/// Either way it says which names changed, so the registry reads those files only.
final class DirectoryWatcher {
    let directory: String
    private var inotifyFD: Int32 = -1
    private let currentSnapshot: () throws(PluginError) -> [String: Double]
    /// Polling: names and mtimes as last listed or reported.
    private var seen: [String: Double]?
    /// One read buffer for the watcher's life: a burst of a thousand renames is ~40 KiB of
    /// records, read in a few calls.
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    static let pollInterval = 0.1
    static let mask: UInt32 = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE
                                     | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    init(directory: String, useInotify: Bool = true, snapshot: @escaping () throws(PluginError) -> [String: Double]) {
        self.directory = directory
        self.currentSnapshot = snapshot
        let fd = useInotify ? inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) : -1
        if fd >= 0 {
            if inotify_add_watch(fd, directory, DirectoryWatcher.mask) >= 0 {
                inotifyFD = fd
            } else {
                Glibc.close(fd)
            }
        }
    }

    var usesInotify: Bool { inotifyFD >= 0 }

    func close() {
        if inotifyFD >= 0 { Glibc.close(inotifyFD) }
        inotifyFD = -1
    }

    /// The state the caller just listed; the poller reports differences from it.
    func remember(_ snapshot: [String: Double]) { seen = snapshot }

    /// Discards queued events (called right before a listing, which sees their effect).
    func drain() throws(PluginError) {
        _ = try readEvents()
    }

    /// Waits up to `seconds` for changes and returns every one already queued by then
    /// (empty: nothing happened).
    func waitForChanges(seconds: Double) throws(PluginError) -> InotifyBatch {
        let deadline = monotonicNow() + seconds
        while true {
            let left = deadline - monotonicNow()
            if inotifyFD >= 0 {
                var pfd = pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)
                let ms = Int32(max(0, min(left, 3600) * 1000).rounded(.up))
                let n = poll(&pfd, 1, ms)
                if n < 0 && errno != EINTR { throw Posix.ioError("poll inotify for", directory) }
                if n > 0 {
                    let batch = try readEvents()
                    if !batch.isEmpty { return batch }
                }
            } else {
                let batch = try pollOnce()
                if !batch.isEmpty { return batch }
                usleep(UInt32(max(0, min(left, DirectoryWatcher.pollInterval)) * 1_000_000))
            }
            if monotonicNow() >= deadline { return InotifyBatch() }
        }
    }

    /// Every queued event, read until the queue is empty.
    private func readEvents() throws(PluginError) -> InotifyBatch {
        var batch = InotifyBatch()
        guard inotifyFD >= 0 else { return batch }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return batch }
                throw Posix.ioError("read inotify events for", directory)
            }
            if n == 0 { return batch }
            buffer.withUnsafeBytes { batch.add(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }

    /// The polling fallback: names that appeared, vanished or got another mtime since the
    /// state last seen.
    private func pollOnce() throws(PluginError) -> InotifyBatch {
        let now = try currentSnapshot()
        defer { seen = now }
        guard let seen else { return InotifyBatch() }
        var batch = InotifyBatch()
        for (name, mtime) in now where seen[name] != mtime { batch.names.insert(name) }
        for name in seen.keys where now[name] == nil { batch.names.insert(name) }
        return batch
    }
}

/// Seconds on the monotonic clock, for timeouts that must not jump with the wall clock.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
