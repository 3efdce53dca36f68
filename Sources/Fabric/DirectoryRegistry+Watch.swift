#if canImport(Glibc)
import Glibc
#endif
import CNI

extension DirectoryRegistry {
    public func waitForChange(timeout: Double) throws -> Bool {
        let start = registryNow()
        // Expiry makes no file event: wake up when the first listed lease lapses.
        if let expiry = nextExpiry, expiry <= start { return true }
        let untilExpiry = nextExpiry.map { $0 - start } ?? .infinity
        let wait = min(max(timeout, 0), untilExpiry)
        guard let watcher = try ensureWatcher() else { return false }
        if try watcher.waitForEvent(seconds: wait) { return true }
        return untilExpiry <= max(timeout, 0)
    }

    /// The watcher on the subnets directory (created with the directory when needed).
    @discardableResult
    func ensureWatcher() throws(PluginError) -> DirectoryWatcher? {
        if let watcher { return watcher }
        try Posix.makeDirectories(subnetsDirectory)
        let w = DirectoryWatcher(directory: subnetsDirectory, useInotify: !pollsForChanges) {
            [unowned self] () throws(PluginError) in try self.snapshot()
        }
        watcher = w
        return w
    }
}

/// Change notification for the subnets directory: inotify when the kernel gives us an
/// instance, otherwise a 100 ms poll comparing names and mtimes with the last listing.
/// Dot names (temp files, the lock) are ignored either way.
final class DirectoryWatcher {
    let directory: String
    private var inotifyFD: Int32 = -1
    private let currentSnapshot: () throws(PluginError) -> [String: Double]
    private var listed: [String: Double]?

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
    func remember(_ snapshot: [String: Double]) { listed = snapshot }

    /// Discards queued events (called right before a listing, which sees their effect).
    func drain() throws(PluginError) {
        _ = try readEvents()
    }

    /// Waits up to `seconds` for a relevant change.
    func waitForEvent(seconds: Double) throws(PluginError) -> Bool {
        let deadline = monotonicNow() + seconds
        while true {
            let left = deadline - monotonicNow()
            if inotifyFD >= 0 {
                var pfd = pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)
                let ms = Int32(max(0, min(left, 3600) * 1000).rounded(.up))
                let n = poll(&pfd, 1, ms)
                if n < 0 && errno != EINTR { throw Posix.ioError("poll inotify for", directory) }
                if n > 0, try readEvents() { return true }
            } else {
                if let listed, try currentSnapshot() != listed { return true }
                if listed == nil { listed = try currentSnapshot() }
                usleep(UInt32(max(0, min(left, DirectoryWatcher.pollInterval)) * 1_000_000))
            }
            if monotonicNow() >= deadline { return false }
        }
    }

    /// Reads every queued event; true if one concerns a lease (a non-dot name, the directory
    /// itself, or a queue overflow).
    private func readEvents() throws(PluginError) -> Bool {
        guard inotifyFD >= 0 else { return false }
        var relevant = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return relevant }
                throw Posix.ioError("read inotify events for", directory)
            }
            if n == 0 { return relevant }
            var offset = 0
            while offset + 16 <= n {
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let length = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) })
                let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                if mask & UInt32(IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF) != 0
                    || (!nameBytes.isEmpty && nameBytes.first != UInt8(ascii: ".")) {
                    relevant = true
                }
                offset += 16 + length
            }
        }
    }
}

/// Seconds on the monotonic clock, for timeouts that must not jump with the wall clock.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
