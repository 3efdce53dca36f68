import Glibc

/// Files in directories that other processes can write (IPAM data, saved configs, the
/// directory registry, subnet.env): a planted symlink, FIFO, socket or device must neither
/// redirect, block nor flood the reader. Every such file is opened without following a
/// final symlink and without blocking, must be a regular file, and is read up to a bound.
extension Posix {
    /// What looking at a file someone else may have planted found.
    package enum Untrusted<Value> {
        /// A regular file: its descriptor or its content.
        case regular(Value)
        case missing
        /// A symlink (when not followed), FIFO, socket, device or directory, or a file over
        /// the size limit: the reason, as an `.io` error naming the file. Distinct from a
        /// thrown error (EACCES, EIO...), so a directory scan can set the entry aside and go on.
        case refused(PluginError)
    }

    /// `open(2)` of a file someone else may have planted: `O_NOFOLLOW | O_NONBLOCK`, then
    /// `fstat` that it is a regular file. Returns nil when it does not exist; throws `.io`
    /// naming the file for a symlink, a FIFO, a socket, a device or a directory.
    ///
    /// `followSymlink`: for a path an operator gave (subnet.env, resolv.conf), which may
    /// legitimately be a symlink (/etc/resolv.conf usually is); the target must still be a
    /// regular file, and it is `stat`ed before it is opened so that a link to a device is
    /// refused without opening it (opening some devices has side effects).
    package static func openRegularFile(
        _ path: String, _ flags: Int32, mode: mode_t = 0o644, followSymlink: Bool = false
    ) throws(PluginError) -> Int32? {
        switch try openUntrusted(path, flags, mode: mode, followSymlink: followSymlink) {
        case .regular(let fd): return fd
        case .missing: return nil
        case .refused(let error): throw error
        }
    }

    /// `openRegularFile`, with a refusal returned rather than thrown.
    package static func openUntrusted(
        _ path: String, _ flags: Int32, mode: mode_t = 0o644, followSymlink: Bool = false
    ) throws(PluginError) -> Untrusted<Int32> {
        if followSymlink {
            var st = stat()
            if stat(path, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFREG else { return .refused(notRegular(path, st.st_mode)) }
            } else if errno == ELOOP {
                return .refused(PluginError(.io, "cannot open \(path): a loop of symbolic links"))
            }
            // Other stat errors (ENOENT with O_CREAT, EACCES...) are left to open to report.
        }
        let noFollow = followSymlink ? 0 : O_NOFOLLOW
        var fd: Int32
        repeat {
            fd = Glibc.open(path, flags | noFollow | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            switch errno {
            case ENOENT: return .missing
            case ELOOP:
                return .refused(PluginError(.io, followSymlink
                    ? "cannot open \(path): a loop of symbolic links"
                    : "cannot open \(path): it is a symbolic link (refused: only regular files are read or written)"))
            case ENXIO: return .refused(PluginError(.io, "cannot open \(path): it is not a regular file (a FIFO, socket or device)"))
            case EISDIR: return .refused(notRegular(path, S_IFDIR))
            default:
                // A device node on a nodev mount fails with EACCES: still a planted entry.
                let e = errno
                var st = stat()
                let found = followSymlink ? stat(path, &st) : lstat(path, &st)
                if found == 0 && st.st_mode & S_IFMT != S_IFREG { return .refused(notRegular(path, st.st_mode)) }
                throw ioError("open", path, e)
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw ioError("stat", path, e)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .refused(notRegular(path, st.st_mode))
        }
        return .regular(fd)
    }

    /// The whole regular file at `path`, at most `limit` bytes; nil when it does not exist.
    /// Throws `.io` for anything but a regular file and for a file larger than `limit`.
    package static func readRegularFile(_ path: String, limit: Int, followSymlink: Bool = false) throws(PluginError) -> [UInt8]? {
        switch try readUntrusted(path, limit: limit, followSymlink: followSymlink) {
        case .regular(let bytes): return bytes
        case .missing: return nil
        case .refused(let error): throw error
        }
    }

    /// `readRegularFile`, with a refusal (not a regular file, over `limit`) returned rather
    /// than thrown.
    package static func readUntrusted(_ path: String, limit: Int, followSymlink: Bool = false) throws(PluginError) -> Untrusted<[UInt8]> {
        let fd: Int32
        switch try openUntrusted(path, O_RDONLY, followSymlink: followSymlink) {
        case .regular(let opened): fd = opened
        case .missing: return .missing
        case .refused(let error): return .refused(error)
        }
        defer { close(fd) }
        guard let bytes = try readUpTo(fd, path: path, limit: limit) else { return .refused(tooLarge(path, limit)) }
        return .regular(bytes)
    }

    /// Everything left to read from `fd`, refusing more than `limit` bytes (a file that grows
    /// while it is read counts too).
    package static func readBounded(_ fd: Int32, path: String, limit: Int) throws(PluginError) -> [UInt8] {
        guard let bytes = try readUpTo(fd, path: path, limit: limit) else { throw tooLarge(path, limit) }
        return bytes
    }

    /// Everything left to read from `fd`, or nil once more than `limit` bytes came.
    private static func readUpTo(_ fd: Int32, path: String, limit: Int) throws(PluginError) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            if n == 0 { return result }
            guard result.count + n <= limit else { return nil }
            result += chunk[0..<n]
            // A regular file reads short only at its end: no extra read returning 0 (a scan
            // over thousands of reservations would double its syscalls).
            if n < chunk.count { return result }
        }
    }

    /// Creates a new file named `prefix` followed by random decimal digits, for writing:
    /// `O_CREAT | O_EXCL | O_NOFOLLOW`, so whatever already exists at a name (a planted
    /// symlink above all) is never opened, truncated or written through; a taken name is
    /// retried with new digits. Returns the descriptor and the path; the caller removes it.
    package static func createUniqueFile(prefix: String, mode: mode_t = 0o644) throws(PluginError) -> (fd: Int32, path: String) {
        var lastError = EEXIST
        for _ in 0..<16 {
            let path = prefix + String(UInt64.random(in: 0...UInt64.max))
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode)
            if fd >= 0 { return (fd, path) }
            lastError = errno
            if lastError != EEXIST && lastError != EINTR { throw ioError("create", path, lastError) }
        }
        throw ioError("create a new file named", prefix + "<random>", lastError)
    }

    private static func notRegular(_ path: String, _ mode: mode_t) -> PluginError {
        PluginError(.io, "cannot use \(path): it is not a regular file (\(fileTypeName(mode)))")
    }

    private static func tooLarge(_ path: String, _ limit: Int) -> PluginError {
        PluginError(.io, "cannot read \(path): it is larger than \(limit) bytes")
    }

    /// `ls -l`'s words for a file type, for errors.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }
}
