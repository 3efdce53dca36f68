import CNI
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// swift-log's backend for the daemon: one logfmt line per event on stderr
/// (`ts=<unix secs.ms> level=<debug|info|warn|error> msg="..." key=value`), the format
/// operators and the integration scripts grep (`level=(error|warn)`). The agent's stdout is
/// unused; plugins never log to stdout because it carries the CNI protocol.
struct LogfmtLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    /// Where each line goes: stderr (tests keep them to read).
    let sink: @Sendable (_ line: String) -> Void

    init(logLevel: Logger.Level, sink: @escaping @Sendable (_ line: String) -> Void = { StandardIO.write($0, fd: 2) }) {
        self.logLevel = logLevel
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        sink(Self.line(level: event.level, message: "\(event.message)", fields: fields))
    }

    /// The whole line, newline included, so one write(2) puts it out in one piece. Metadata
    /// keys come sorted: swift-log hands them over as a dictionary, and a stable order keeps
    /// lines diffable.
    static func line(level: Logger.Level, message: String, fields: Logger.Metadata, timestamp: String = timestamp()) -> String {
        var line = "ts=\(timestamp) level=\(name(of: level)) msg=\(quote(message))"
        for key in fields.keys.sorted() { line += " \(key)=\(quote("\(fields[key]!)"))" }
        return line + "\n"
    }

    /// The four level words of the line format; swift-log's seven levels fold onto them.
    static func name(of level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }

    /// Seconds since the epoch with milliseconds: sortable and free of time-zone questions.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ms = ts.tv_nsec / 1_000_000
        return "\(ts.tv_sec).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
    }

    /// Bare when the value is plain printable ASCII without `"` or `=`, else double-quoted
    /// with `\`, `"` and newlines escaped.
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

extension Logger.Level {
    /// `--log-level` as swift-log's level (the same seven names).
    init(_ level: AgentLogLevel) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}

extension Logger {
    /// The daemon's logger: logfmt on stderr at `level`. Built directly rather than through
    /// `LoggingSystem.bootstrap`, which may run once per process (tests build many agents).
    static func agent(level: AgentLogLevel) -> Logger {
        Logger(label: "swift-flanneld") { _ in LogfmtLogHandler(logLevel: Logger.Level(level)) }
    }
}
