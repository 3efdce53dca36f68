import Glibc

/// Files in directories that other processes can write (IPAM data, saved configs, the
/// directory registry, subnet.env): a planted symlink, FIFO, socket or device must neither
/// redirect, block nor flood the reader. Every such file is opened without following a
/// final symlink and without blocking, must be a regular file, and is read up to a bound.
extension Posix {
    /// `open(2)` of a file someone else may have planted: `O_NOFOLLOW | O_NONBLOCK`, then
    /// `fstat` that it is a regular file. Returns nil when it does not exist; throws `.io`
    /// naming the file for a symlink, a FIFO, a socket, a device or a directory.
    package static func openRegularFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(PluginError) -> Int32? {
        var fd: Int32
        repeat {
            fd = Glibc.open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw PluginError(.io, "cannot open \(path): it is a symbolic link (refused: only regular files are read or written)")
            case ENXIO: throw PluginError(.io, "cannot open \(path): it is not a regular file (a FIFO or socket)")
            default: throw ioError("open", path)
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
            throw PluginError(.io, "cannot use \(path): it is not a regular file (\(fileTypeName(st.st_mode)))")
        }
        return fd
    }

    /// The whole regular file at `path`, at most `limit` bytes; nil when it does not exist.
    /// Throws `.io` for anything but a regular file and for a file larger than `limit`.
    package static func readRegularFile(_ path: String, limit: Int) throws(PluginError) -> [UInt8]? {
        guard let fd = try openRegularFile(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        return try readBounded(fd, path: path, limit: limit)
    }

    /// Everything left to read from `fd`, refusing more than `limit` bytes (a file that grows
    /// while it is read counts too).
    package static func readBounded(_ fd: Int32, path: String, limit: Int) throws(PluginError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            if n == 0 { return result }
            guard result.count + n <= limit else {
                throw PluginError(.io, "cannot read \(path): it is larger than \(limit) bytes")
            }
            result += chunk[0..<n]
            // A regular file reads short only at its end: no extra read returning 0 (a scan
            // over thousands of reservations would double its syscalls).
            if n < chunk.count { return result }
        }
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
