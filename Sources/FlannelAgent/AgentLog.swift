import Netlink
import NetTypes
import FlannelCNI
import SubnetRegistry
import Dataplane
import CNI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Leveled logfmt lines on stderr (`ts=... level=info msg="..." key=value`). The agent's
/// stdout is unused; plugins never log to stdout because it carries the CNI protocol.
public enum AgentLog {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public init?(name: String) {
            switch name.lowercased() {
            case "debug": self = .debug
            case "info": self = .info
            case "warn", "warning": self = .warn
            case "error": self = .error
            default: return nil
            }
        }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }
    }

    static let threshold = Atomic<Int>(Level.info.rawValue)

    public static func setLevel(_ level: AgentLogLevel) {
        let mapped: Level = switch level {
        case .trace, .debug: .debug
        case .info, .notice: .info
        case .warning: .warn
        case .error, .critical: .error
        }
        threshold.store(mapped.rawValue, ordering: .relaxed)
    }

    public static func debug(_ msg: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.debug, msg, fields) }
    public static func info(_ msg: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.info, msg, fields) }
    public static func warn(_ msg: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.warn, msg, fields) }
    public static func error(_ msg: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.error, msg, fields) }

    static func log(_ level: Level, _ msg: String, _ fields: KeyValuePairs<String, String>) {
        guard level.rawValue >= threshold.load(ordering: .relaxed) else { return }
        var line = "ts=\(timestamp()) level=\(level.name) msg=\(quote(msg))"
        for (k, v) in fields { line += " \(k)=\(quote(v))" }
        StandardIO.write(line + "\n", fd: 2)
    }

    /// Seconds since the epoch with milliseconds: sortable and free of time-zone questions.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = ts.tv_nsec / 1_000_000
        return "\(ts.tv_sec).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty, s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0.value < 0x7f }) { return s }
        var out = "\""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out + "\""
    }
}
