import Glibc

/// Thin wrappers over the file system calls plugins and the agent need (IPAM store, saved
/// configs, registry directory, subnet.env), each turning a failure into a
/// `PluginError(.io)` that names the file and the errno text, so callers never format errno.
package enum Posix {
    package static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    package static func ioError(_ action: String, _ path: String, _ code: Int32 = errno) -> PluginError {
        PluginError(.io, "cannot \(action) \(path): \(errorText(code))")
    }

    /// `mkdir -p`: creates every missing component with `mode`; existing ones are fine.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(PluginError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw ioError("create directory", prefix)
            }
        }
    }

    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(PluginError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw ioError("open", path) }
        }
    }

    /// The whole file. Reservation and state files are a few bytes, so one buffer is enough.
    package static func readFile(_ path: String) throws(PluginError) -> [UInt8] {
        guard let bytes = try readFileIfPresent(path) else { throw ioError("read", path, ENOENT) }
        return bytes
    }

    /// The parent directory of `path` ("." when it has none).
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The whole file, or nil if it does not exist or is a directory (a concurrent remover
    /// or a stray entry: neither is an error for a directory scan).
    package static func readFileIfPresent(_ path: String) throws(PluginError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ioError("open", path)
        }
        defer { close(fd) }
        return try readRemaining(fd, path: path)
    }

    /// Everything left to read from `fd`; nil when it is a directory.
    package static func readRemaining(_ fd: Int32, path: String) throws(PluginError) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EISDIR { return nil }
                throw ioError("read", path)
            }
            result += chunk[0..<n]
            // A regular file reads short only at its end: skip the extra read returning 0,
            // which would double the syscalls of a scan over thousands of reservations.
            if n < chunk.count { return result }
        }
    }

    /// Writes all of `bytes`, retrying short writes; `write` is the syscall (tests swap it).
    package static func writeAll(
        _ fd: Int32, _ bytes: [UInt8], path: String,
        using write: (Int32, UnsafeRawBufferPointer) -> Int = systemWrite
    ) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("write", path)
            }
            offset += n
        }
    }

    /// Entry names in a directory, without "." and "..".
    package static func listDirectory(_ path: String) throws(PluginError) -> [String] {
        guard let dir = opendir(path) else { throw ioError("list directory", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Replaces `path` with `bytes` atomically: a temp file in the same directory, fsync,
    /// rename. Readers see the old or the new content, never a partial file.
    ///
    /// The temp file is `<path>.tmp.<random digits>`, created exclusively
    /// (`createUniqueFile`): a symlink or file planted at a guessable temp name is neither
    /// written through nor renamed into place. `rename` replaces `path` itself, so a symlink
    /// planted at `path` is replaced, never followed.
    package static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let (fd, temp) = try createUniqueFile(prefix: path + ".tmp.", mode: mode)
        do {
            try writeAll(fd, bytes, path: temp)
            if fsync(fd) != 0 { throw ioError("sync", temp) }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        close(fd)
        if rename(temp, path) != 0 {
            let e = errno
            unlink(temp)
            throw ioError("rename into place", path, e)
        }
    }

    /// `unlink`, where a file already gone counts as success (release must be repeatable).
    package static func removeFile(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw ioError("remove", path) }
    }
}

/// The real `write(2)`, the default for `Posix.writeAll`.
package func systemWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    Glibc.write(fd, buffer.baseAddress, buffer.count)
}
