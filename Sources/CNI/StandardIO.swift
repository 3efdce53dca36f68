#if canImport(Glibc)
import Glibc
#endif

/// Raw stdin/stdout/stderr: stdout carries only the protocol's JSON, logs go to stderr.
package enum StandardIO {
    /// The read buffer is left uninitialized: zeroing it would fault in all of its 16 pages
    /// on every plugin start, where a config touches one or two.
    package static func readAll(fd: Int32 = 0) throws(PluginError) -> [UInt8] {
        var out: [UInt8] = []
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf.baseAddress, buf.count)
            if n > 0 {
                out.append(contentsOf: buf[0..<n])
            } else if n == 0 {
                return out
            } else if errno != EINTR {
                throw PluginError(.io, "reading stdin failed", details: String(cString: strerror(errno)))
            }
        }
    }

    package static func write(_ text: String, fd: Int32) {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }

    /// One log line on stderr, prefixed with the plugin name; never on stdout.
    package static func log(_ message: String) {
        write("\(ProcessEnvironment.programName): \(message)\n", fd: 2)
    }
}

/// The process's own environment and name, read without Foundation's ProcessInfo.
package enum ProcessEnvironment {
    /// Split at the first `=` byte, not by Characters: this runs on every plugin start, and
    /// a Character search does grapheme breaking over every byte of the environment.
    package static var variables: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let bytes = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                out[String(decoding: bytes[..<eq], as: UTF8.self)] = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
            }
            p += 1
        }
        return out
    }

    package static var programName: String {
        let argv0 = CommandLine.arguments.first ?? "cni"
        return argv0.split(separator: "/").last.map(String.init) ?? argv0
    }
}
