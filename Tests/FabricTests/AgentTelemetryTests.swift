import Glibc
import Logging
import Testing
@testable import FlannelAgent

/// What operators and scripts read from the daemon besides the dataplane: logfmt lines,
/// the Prometheus families, and the systemd notification.
@Suite struct AgentTelemetryTests {
    @Test func logLinesKeepTheLogfmtFormat() {
        let line = LogfmtLogHandler.line(level: .warning, message: "peer not programmed",
                                         fields: ["peer": "10.244.3.0/24 via 192.168.9.2: not on-link", "ms": "12"],
                                         timestamp: "1700000000.042")
        #expect(line == #"ts=1700000000.042 level=warn msg="peer not programmed" ms=12 peer="10.244.3.0/24 via 192.168.9.2: not on-link""# + "\n")
        #expect(LogfmtLogHandler.line(level: .info, message: "ready", fields: [:], timestamp: "1.000") == "ts=1.000 level=info msg=ready\n")
        #expect(LogfmtLogHandler.quote("a\"b\\c\nd=") == #""a\"b\\c\nd=""#)
        #expect(LogfmtLogHandler.quote("") == #""""#)
        #expect([Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical].map(LogfmtLogHandler.name(of:))
                == ["debug", "debug", "info", "info", "warn", "error", "error"])
        let ts = LogfmtLogHandler.timestamp()
        #expect(ts.split(separator: ".").count == 2 && ts.split(separator: ".")[1].count == 3)
    }

    @Test func logLevelComesFromTheOption() {
        var o = AgentOptions()
        o.logLevel = .warning
        #expect(Agent(options: o).logger.logLevel == .warning)
        o.logLevel = .debug
        #expect(Agent(options: o).logger.logLevel == .debug)
    }

    @Test func metricsKeepTheirNamesTypesAndLabels() {
        let m = AgentMetrics()
        m.recordPeers(programmed: 2, unreachable: 1)
        m.recordReconcile(duration: .milliseconds(3), changed: 6)
        m.recordReconcile(duration: .seconds(7), changed: 0)
        m.recordLeaseExpiry(1_700_000_123.9)
        m.recordRegistryUp(true)
        m.recordReady(true)
        m.recordError("registry")
        m.recordError("registry")
        let text = String(decoding: m.exposition(), as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE swiftcni_peers gauge", #"swiftcni_peers{state="programmed"} 2.0"#, #"swiftcni_peers{state="unreachable"} 1.0"#,
            "# TYPE swiftcni_peers_unreachable gauge", "swiftcni_peers_unreachable 1.0",
            "# TYPE swiftcni_lease_expiry_seconds gauge", "swiftcni_lease_expiry_seconds 1700000123.0",
            "# TYPE swiftcni_registry_up gauge", "swiftcni_registry_up 1.0",
            "# TYPE swiftcni_ready gauge", "swiftcni_ready 1.0",
            "# TYPE swiftcni_network_config_changed gauge", "swiftcni_network_config_changed 0.0",
            "# TYPE swiftcni_reconcile_duration_seconds histogram",
            #"swiftcni_reconcile_duration_seconds_bucket{le="0.001"} 0"#,
            #"swiftcni_reconcile_duration_seconds_bucket{le="0.0025"} 0"#,
            #"swiftcni_reconcile_duration_seconds_bucket{le="0.005"} 1"#,
            #"swiftcni_reconcile_duration_seconds_bucket{le="5.0"} 1"#,
            #"swiftcni_reconcile_duration_seconds_bucket{le="+Inf"} 2"#,
            "swiftcni_reconcile_duration_seconds_count 2", "swiftcni_reconcile_duration_seconds_sum 7.003",
            "# TYPE swiftcni_reconcile_total counter", "swiftcni_reconcile_total 2",
            "# TYPE swiftcni_reconcile_entries_changed_total counter", "swiftcni_reconcile_entries_changed_total 6",
            "# TYPE swiftcni_errors_total counter", #"swiftcni_errors_total{kind="registry"} 2"#,
            #"swiftcni_errors_total{kind="setup"} 0"#, #"swiftcni_errors_total{kind="dataplane"} 0"#,
            "# HELP swiftcni_ready 1 when the node is ready (lease, device, subnet file).",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)\n\(text)")
        }
        let buckets = text.split(separator: "\n").filter { $0.hasPrefix("swiftcni_reconcile_duration_seconds_bucket") }
        #expect(buckets.count == AgentMetrics.reconcileBuckets.count + 1)
    }

    @Test(arguments: [false, true]) func systemdNotificationReachesTheSocket(abstract: Bool) throws {
        let name = "swift-cni-notify-test-\(getpid())-\(abstract)"
        let path = abstract ? "@" + name : "/tmp/" + name
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); if !abstract { unlink(path) } }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        try #require(rc == 0, "bind: \(String(cString: strerror(errno)))")
        #expect(SystemdNotify.send("READY=1", socketPath: path))
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        #expect(n > 0 && String(decoding: buf[0..<n], as: UTF8.self) == "READY=1")
        #expect(SystemdNotify.send("STOPPING=1", socketPath: nil))
        #expect(!SystemdNotify.send("READY=1", socketPath: "/nonexistent/notify"))
    }
}
