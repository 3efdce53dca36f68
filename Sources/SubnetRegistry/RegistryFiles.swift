#if canImport(Glibc)
import Glibc
#endif
import CNI

/// The few POSIX file operations the directory registry and subnet.env need, each turning a
/// failure into a `PluginError(.io)` naming the file and the errno text.
package enum RegistryFiles {
    /// The parent directory of `path` ("." when it has none).
    static func directory(of path: String) -> String { Posix.directory(of: path) }

    /// The whole file, or nil when it does not exist.
    static func readIfPresent(_ path: String) throws(PluginError) -> [UInt8]? {
        try readWithModificationTime(path)?.bytes
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

    /// The file's modification time in seconds since the epoch, nil when it does not exist.
    static func modificationTime(_ path: String) throws(PluginError) -> Double? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw Posix.ioError("stat", path)
        }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
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

    /// The file's content and modification time read through one descriptor, so a
    /// concurrent rename cannot pair one file's bytes with another's expiry. nil: absent.
    static func readWithModificationTime(_ path: String) throws(PluginError) -> (bytes: [UInt8], mtime: Double)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Posix.ioError("open", path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Posix.ioError("stat", path) }
        guard let result = try Posix.readRemaining(fd, path: path) else { return nil }
        return (result, Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }
}
