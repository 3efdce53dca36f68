import Glibc
import Testing
@testable import SubnetRegistry

/// Each registry owns one event loop thread; re-creating registries (an agent that rebuilds
/// its registry after a config change, the tests) must not pile up threads.
@Suite struct EtcdTransportLifecycleTests {
    /// The calling thread's id, from /proc/thread-self ("<pid>/task/<tid>").
    static func threadID() -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &buffer, 63)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }

    @Test func registryReleasesItsEventLoopThread() throws {
        weak var lastTransport: EtcdTransport?
        // The ids of this test's own event loop threads: other suites start and stop
        // registries of their own meanwhile, so a process-wide count cannot tell (it flaked).
        var threadIDs: [String] = []
        for _ in 0..<10 {
            let registry = try EtcdRegistry(endpoints: ["http://127.0.0.1:2379"])
            let transport = try registry.usableTransport()
            lastTransport = transport
            threadIDs.append(try transport.group.next().submit { Self.threadID() }.wait())
        }
        #expect(Set(threadIDs).count == 10, "one thread per registry")
        #expect(lastTransport == nil)  // nothing keeps the client alive once the registry is gone
        let alive = { threadIDs.filter { access("/proc/\($0)", F_OK) == 0 } }
        let deadline = monotonicNow() + 5
        while !alive().isEmpty && monotonicNow() < deadline { usleep(20_000) }
        #expect(alive().isEmpty, "event loop threads still running: \(alive())")
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
