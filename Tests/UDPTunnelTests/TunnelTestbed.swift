import CNI
import Glibc
import NetNS
import NetTypes
import TestSupport
@testable import UDPTunnel

/// Two "nodes" for the privileged tests: network namespaces `ue10-<pid>-<n>-a` and `-b`
/// (behind `SWIFTCNI_TEST_NETNS_PREFIX`, like every test namespace)
/// joined by a veth (`eth0`, underlay 192.0.2.1 and .2/24, MTU 1500), node i leasing
/// 10.244.i.0/24 of 10.244.0.0/16. Each node's tunnel is created on a thread inside its
/// namespace and flannel0 is configured with `ip` as the agent's dataplane would (MTU
/// 1472 = underlay - 28, the subnet address as /32, the network's route). Namespaces go
/// when the testbed does, also when a test fails.
final class TunnelTestbed {
    static let ip = "/usr/sbin/ip"
    static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    static var isAvailable: Bool { geteuid() == 0 && access(ip, X_OK) == 0 && access("/dev/net/tun", R_OK) == 0 }
    nonisolated(unsafe) private static var runs = 0
    static let network = IPPrefix("10.244.0.0/16")!

    let names: [String]
    var tunnels: [UDPTunnel?] = [nil, nil]

    init() throws {
        Self.runs += 1
        let prefix = testNamespaceName("ue10-\(getpid())-\(Self.runs)")
        names = [prefix + "-a", prefix + "-b"]
        do {
            for name in names { try Self.run(Self.ip, ["netns", "add", name]) }
            try Self.run(Self.ip, ["-n", names[0], "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", names[1]])
            for i in 0..<2 {
                try node(i, ["addr", "add", "\(underlay(i))/24", "dev", "eth0"])
                try node(i, ["link", "set", "eth0", "up"])
                try node(i, ["link", "set", "lo", "up"])
            }
        } catch {
            removeAll()
            throw error
        }
    }

    deinit {
        for tunnel in tunnels { tunnel?.stop() }
        removeAll()
    }

    private func removeAll() {
        for name in names { _ = try? ChildProcess.run(Self.ip, arguments: ["netns", "del", name], environment: Self.environment) }
    }

    func underlay(_ i: Int) -> IPAddress { IPAddress("192.0.2.\(i + 1)")! }
    func subnet(_ i: Int) -> IPPrefix { IPPrefix("10.244.\(i + 1).0/24")! }
    /// The node's flannel0 address: its subnet's first address, as flannel assigns.
    func tunAddress(_ i: Int) -> IPAddress { subnet(i).address }
    func peer(_ i: Int) -> UDPPeer { UDPPeer(subnet: subnet(i), publicAddress: underlay(i), port: 8285) }

    /// Creates node i's tunnel inside its namespace, configures flannel0, hands it the other
    /// node as peer and starts it.
    @discardableResult
    func startTunnel(_ i: Int, path: UDPTunnelPath, workers: Int? = nil, offloads: UDPTunnelOffloads = .all) throws -> UDPTunnel {
        let configuration = UDPTunnelConfiguration(publicAddress: underlay(i), network: Self.network, ownSubnet: subnet(i),
                                                   path: path, workers: workers, offloads: offloads)
        let namespace = try NetworkNamespace(path: "/run/netns/\(names[i])")
        let tunnel = try namespace.run { try UDPTunnel(configuration) }
        tunnels[i] = tunnel
        try node(i, ["link", "set", "flannel0", "mtu", "1472", "up"])
        _ = try? node(i, ["addr", "replace", "\(tunAddress(i))/32", "dev", "flannel0"])
        _ = try? node(i, ["route", "replace", "\(Self.network)", "dev", "flannel0"])
        tunnel.replacePeers([peer(1 - i)])
        tunnel.start()
        return tunnel
    }

    @discardableResult
    func node(_ i: Int, _ arguments: [String]) throws -> String {
        try Self.run(Self.ip, ["-n", names[i]] + arguments)
    }

    /// Runs a command inside node i's namespace; returns its output whatever the exit.
    func exec(_ i: Int, _ arguments: [String], stdin: String = "") throws -> ChildProcessOutput {
        try ChildProcess.run(Self.ip, arguments: ["netns", "exec", names[i]] + arguments, environment: Self.environment,
                             stdin: Array(stdin.utf8))
    }

    func pings(from i: Int, to target: IPAddress, count: Int = 2) throws -> Bool {
        try exec(i, ["ping", "-c", "\(count)", "-i", "0.2", "-W", "2", "\(target)"]).succeeded
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = try ChildProcess.run(executable, arguments: arguments, environment: environment)
        guard output.succeeded else {
            throw UDPTunnelError("\(executable) \(arguments.joined(separator: " ")): \(output.termination): "
                                 + String(decoding: output.stderr, as: UTF8.self))
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }
}
