import CNI
import Glibc
import NetTypes
import Testing
@testable import UDPTunnel

/// Single-stream TCP through the tunnel between the testbed's two namespaces, per path and
/// technique, next to a kernel VXLAN device over the same veth (docs/udp-tunnel.md has the
/// figures). Runs only with UDPTUNNEL_BENCH=1 (seconds per run in UDPTUNNEL_BENCH_SECONDS,
/// default 5; UDPTUNNEL_BENCH_ONLY=<part of a name> runs only matching ones): it takes
/// minutes and measures, it does not judge.
@Suite(.enabled(if: TunnelTestbed.isAvailable && getenv("UDPTUNNEL_BENCH") != nil, "UDPTUNNEL_BENCH=1 and root"), .serialized)
struct TunnelBenchmark {
    static let seconds = getenv("UDPTUNNEL_BENCH_SECONDS").flatMap { Int(String(cString: $0)) } ?? 5
    static let runs = 3

    /// Gbit/s of one iperf3 run from node 0 to `server` (an address of node 1).
    static func iperf(_ bed: TunnelTestbed, to server: String) throws -> Double {
        let script = """
            ip netns exec \(bed.names[1]) iperf3 -s -1 -B \(server) >/dev/null 2>&1 &
            sleep 0.3
            ip netns exec \(bed.names[0]) iperf3 -c \(server) -t \(seconds) -J
            wait
            """
        let out = String(decoding: try ChildProcess.run("/bin/bash", arguments: ["-c", script], environment: TunnelTestbed.environment).stdout,
                         as: UTF8.self)
        // No Foundation: find the receiver's figure by hand.
        let bytes = Array(out.utf8)
        guard let sum = find(Array("\"sum_received\"".utf8), in: bytes, from: 0),
              let key = find(Array("\"bits_per_second\":".utf8), in: bytes, from: sum) else { return 0 }
        var i = key
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
        var j = i
        let numeric = Set("0123456789.e+".utf8)
        while j < bytes.count, numeric.contains(bytes[j]) { j += 1 }
        let number: Double = Double(String(decoding: bytes[i..<j], as: UTF8.self)) ?? 0
        return number / 1e9
    }

    /// The index just after the first occurrence of `needle` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i + needle.count }
            i += 1
        }
        return nil
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func report(_ name: String, _ values: [Double]) {
        func rounded(_ v: Double) -> Double { (v * 100).rounded() / 100 }
        let text = values.map { "\(rounded($0))" }.joined(separator: ", ")
        print("BENCH \(name): median \(rounded(median(values))) Gbit/s (runs: \(text))")
    }

    @Test(arguments: [
        ("plain", UDPTunnelPath.plain, 1, UDPTunnelOffloads.all),
        ("vnet_hdr+csum only (no TSO), recvmmsg", .automatic, 1, []),
        ("TSO split + sendmmsg, no GRO", .automatic, 1, [.tunSegmentation]),
        ("TSO split + UDP GSO, no GRO", .automatic, 1, [.tunSegmentation, .udpGSO]),
        ("TSO + GSO + GRO/coalesce (automatic)", .automatic, 1, .all),
        ("automatic, 2 workers", .automatic, 2, .all),
    ] as [(String, UDPTunnelPath, Int, UDPTunnelOffloads)])
    func tunnelThroughput(name: String, path: UDPTunnelPath, workers: Int, offloads: UDPTunnelOffloads) throws {
        if let only = getenv("UDPTUNNEL_BENCH_ONLY").map({ String(cString: $0) }), !Self.matches(name, only) { return }
        let bed = try TunnelTestbed()
        let a = try bed.startTunnel(0, path: path, workers: workers, offloads: offloads)
        try bed.startTunnel(1, path: path, workers: workers, offloads: offloads)
        #expect(try bed.pings(from: 0, to: bed.tunAddress(1)))
        let values = try (0..<Self.runs).map { _ in try Self.iperf(bed, to: "\(bed.tunAddress(1))") }
        Self.report("udp \(name) [\(a.pathDescription)]", values)
        #expect(values.allSatisfy { $0 > 0 })
    }

    /// Whether `name` contains `fragment` (UDPTUNNEL_BENCH_ONLY picks configurations).
    static func matches(_ name: String, _ fragment: String) -> Bool {
        find(Array(fragment.utf8), in: Array(name.utf8), from: 0) != nil
    }

    @Test func vxlanThroughput() throws {
        if let only = getenv("UDPTUNNEL_BENCH_ONLY").map({ String(cString: $0) }), !Self.matches("vxlan", only) { return }
        let bed = try TunnelTestbed()
        for i in 0..<2 {
            try bed.node(i, ["link", "add", "vx0", "type", "vxlan", "id", "42", "local", "\(bed.underlay(i))",
                             "remote", "\(bed.underlay(1 - i))", "dstport", "4789", "dev", "eth0"])
            try bed.node(i, ["link", "set", "vx0", "mtu", "1450", "up"])
            try bed.node(i, ["addr", "add", "10.245.0.\(i + 1)/24", "dev", "vx0"])
        }
        let values = try (0..<Self.runs).map { _ in try Self.iperf(bed, to: "10.245.0.2") }
        Self.report("vxlan", values)
        #expect(values.allSatisfy { $0 > 0 })
    }
}
