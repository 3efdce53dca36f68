#if canImport(Glibc)
import Glibc
#endif
import CNI

/// The few POSIX file operations the directory registry and subnet.env need, each turning a
/// failure into a `PluginError(.io)` naming the file and the errno text.
package enum RegistryFiles {
    /// The parent directory of `path` ("." when it has none).
    static func directory(of path: String) -> String { Posix.directory(of: path) }

    /// A lease is a few hundred bytes; anything near this is not one.
    static let leaseSizeLimit = 64 * 1024
    /// The network config: larger than a lease, still small.
    static let configSizeLimit = 1024 * 1024

    /// The whole regular file (at most `limit` bytes), or nil when it does not exist.
    static func readIfPresent(_ path: String, limit: Int = configSizeLimit) throws(PluginError) -> [UInt8]? {
        try read(path, limit: limit)?.bytes
    }

    /// Entry names without "." and ".."; an absent directory is empty.
    static func list(_ path: String) throws(PluginError) -> [String] {
        var st = stat()
        if stat(path, &st) != 0 && errno == ENOENT { return [] }
        return try Posix.listDirectory(path)
    }

    /// A new file `dir/.tmp-<pid>-<random>` holding `bytes`, flushed to disk, its mtime set
    /// to `mtime` when given. Names start with '.' so watchers and listings skip them.
    static func writeTemporary(in dir: String, _ bytes: [UInt8], mtime: Double? = nil,
                               mode: mode_t = 0o644) throws(PluginError) -> String {
        let path = "\(dir)/.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Posix.ioError("create", path) }
        var failure: PluginError?
        var offset = 0
        while offset < bytes.count && failure == nil {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno != EINTR { failure = Posix.ioError("write", path) }
            } else {
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = Posix.ioError("fsync", path) }
        if failure == nil, let mtime {
            var times = [timeSpec(mtime), timeSpec(mtime)]
            if futimens(fd, &times) != 0 { failure = Posix.ioError("set the expiry (mtime) of", path) }
        }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
        return path
    }

    /// Makes a completed rename or link durable.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// The modification time of the entry itself (lstat: a symlink's own, so a loop or a
    /// dangling link is an entry like any other), in seconds since the epoch; nil when absent.
    static func modificationTime(_ path: String) throws(PluginError) -> Double? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw Posix.ioError("stat", path)
        }
        return seconds(st.st_mtim)
    }

    /// Runs `body` holding an exclusive `flock` on `path` (created if needed).
    static func withLock<T>(_ path: String, _ body: () throws(PluginError) -> T) throws(PluginError) -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Posix.ioError("open lock file", path) }
        defer { close(fd) }  // closing releases the lock
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw Posix.ioError("lock", path) }
        }
        return try body()
    }
}

extension RegistryFiles {
    /// Seconds since the epoch as a timespec.
    static func timeSpec(_ seconds: Double) -> timespec {
        let whole = seconds.rounded(.down)
        return timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
    }

    static func seconds(_ time: timespec) -> Double { Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 }

    /// A file others can write to, as read through one descriptor (so a concurrent rename
    /// cannot pair one file's bytes with another's expiry): its bytes, its mtime, and its
    /// birth time in ns (nil: not recorded).
    struct Contents {
        var bytes: [UInt8]
        var mtime: Double
        var birth: Int64?
    }

    /// The regular file at `path`, at most `limit` bytes; nil when absent. Never follows a
    /// symlink, never blocks (a FIFO), never reads a device: those, directories, sockets and
    /// larger files throw `.io` naming the path and what it is.
    static func read(_ path: String, limit: Int) throws(PluginError) -> Contents? {
        guard let fd = try Posix.openRegularFile(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Posix.ioError("stat", path) }
        guard st.st_size <= limit else {
            throw PluginError(.io, "cannot read \(path): it is larger than \(limit) bytes")
        }
        let bytes = try Posix.readBounded(fd, path: path, limit: limit)
        return Contents(bytes: bytes, mtime: seconds(st.st_mtim), birth: Posix.birthTimeNanoseconds(fd))
    }

    /// Sets the expiry (mtime) of the regular file at `path` in place when it holds exactly
    /// `bytes`: a renewal that changes nothing keeps the inode, and with it the birth time
    /// that says how old the lease is. False: absent, different, or not a regular file.
    static func extendIfUnchanged(_ path: String, holding bytes: [UInt8], until mtime: Double) throws(PluginError) -> Bool {
        guard let fd = try? Posix.openRegularFile(path, O_RDONLY) else { return false }
        defer { close(fd) }
        guard let current = try? Posix.readBounded(fd, path: path, limit: leaseSizeLimit), current == bytes else {
            return false
        }
        var times = [timeSpec(mtime), timeSpec(mtime)]
        guard futimens(fd, &times) == 0 else { throw Posix.ioError("set the expiry (mtime) of", path) }
        return true
    }
}
