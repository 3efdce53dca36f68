import Glibc
import Testing
@testable import SubnetRegistry

/// Each registry owns one event loop thread; re-creating registries (an agent that rebuilds
/// its registry after a config change, the tests) must not pile up threads.
@Suite struct EtcdTransportLifecycleTests {
    /// Threads of swift-nio event loop groups ("NIO-ELT-…"), of this whole test process.
    static func eventLoopThreads() -> Int {
        guard let dir = opendir("/proc/self/task") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first != ".", let file = fopen("/proc/self/task/\(name)/comm", "r") else { continue }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 64)
            if fgets(&line, 64, file) != nil,
               String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("NIO-ELT") { count += 1 }
        }
        return count
    }

    @Test func registryReleasesItsEventLoopThread() throws {
        weak var lastTransport: EtcdTransport?
        let before = Self.eventLoopThreads()
        for _ in 0..<10 {
            let registry = try EtcdRegistry(endpoints: ["http://127.0.0.1:2379"])
            lastTransport = try registry.usableTransport()
            #expect(Self.eventLoopThreads() >= 1)
        }
        #expect(lastTransport == nil)  // nothing keeps the client alive once the registry is gone
        // Other suites may hold registries of their own for a moment: wait for them.
        let deadline = monotonicNow() + 5
        while Self.eventLoopThreads() > before && monotonicNow() < deadline { usleep(50_000) }
        #expect(Self.eventLoopThreads() <= before)
    }
}

/// Request latency over plain HTTP and TLS (with a client certificate), against an etcd the
/// caller started: `SCE_LATENCY_PLAIN=http://… SCE_LATENCY_TLS=https://… SCE_LATENCY_PKI=<dir
/// with ca.pem client.pem client.key>`. Prints the mean of 300 range requests on one
/// registry (connections are kept, so this is the per-request cost, not the handshake).
@Suite(.enabled(if: getenv("SCE_LATENCY_TLS") != nil, "needs an etcd started by the caller"))
struct EtcdLatencyMeasurement {
    @Test func plainVersusTLS() throws {
        let pki = String(cString: getenv("SCE_LATENCY_PKI"))
        let plain = try EtcdRegistry(endpoints: [String(cString: getenv("SCE_LATENCY_PLAIN"))])
        let tls = try EtcdRegistry(settings: EtcdClientSettings(
            endpoints: [String(cString: getenv("SCE_LATENCY_TLS"))], caFile: pki + "/ca.pem",
            certFile: pki + "/client.pem", keyFile: pki + "/client.key"))
        for (name, registry) in [("plain", plain), ("tls", tls)] {
            let first = monotonicNow()
            _ = try registry.leases()
            let connect = monotonicNow() - first
            let started = monotonicNow()
            for _ in 0..<300 { _ = try registry.leases() }
            let mean = (monotonicNow() - started) / 300
            print("etcd latency \(name): first request \(Int(connect * 1e6)) µs, then \(Int(mean * 1e6)) µs per range request")
        }
        // A fresh registry per request: connection + handshake every time.
        for (name, settings) in [("plain", EtcdClientSettings(endpoints: plain.settings.endpoints)), ("tls", tls.settings)] {
            let started = monotonicNow()
            for _ in 0..<20 { _ = try EtcdRegistry(settings: settings).leases() }
            print("etcd latency \(name): \(Int((monotonicNow() - started) / 20 * 1e6)) µs per new registry + connection + request")
        }
    }
}
