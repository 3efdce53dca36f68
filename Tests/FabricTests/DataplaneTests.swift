import CNI
import Glibc
import NetNS
import NetTypes
import Netlink
import Testing
import TestSupport
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// Privileged scaffolding for the dataplane tests: "nodes" are named network namespaces
/// (`dpt-<pid>-<n>-…`, behind `SWIFTCNI_TEST_NETNS_PREFIX` when set) whose `eth0` is a veth
/// into a bridge `sw` that lives in a switch namespace of its own — the underlay
/// 192.168.50.0/24, node i at 192.168.50.(10+i). Everything is deleted when the testbed goes
/// away, also when a test fails; the machine's own namespace is never entered or changed.
final class DataplaneTestbed {
    struct Node {
        let name: String
        let namespace: NetworkNamespace
        let socket: RouteSocket
        let address: IPAddress
        /// This node's pod subnet, 10.244.i.0/24.
        let subnet: IPPrefix
    }

    static let ip = "/usr/sbin/ip"
    static let nft = ChildProcess.locate("nft", searchPath: "/usr/sbin:/sbin:/usr/bin", fallback: nil)
    static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    static var isAvailable: Bool { geteuid() == 0 && access(ip, X_OK) == 0 }
    nonisolated(unsafe) private static var runs = 0

    let prefix: String
    private(set) var namespaces: [String] = []
    private(set) var nodes: [Node] = []

    /// `nodes` nodes on the underlay, each with lo and eth0 up and a default route via
    /// 192.168.50.1 (which nobody answers: only the route matters).
    init(nodes count: Int) throws {
        Self.runs += 1
        prefix = testNamespaceName("dpt-\(getpid())-\(Self.runs)-\(UInt16.random(in: 0...UInt16.max))")
        do {
            let (switchNamespace, switchSocket) = try addNamespace("sw")
            _ = switchNamespace
            try switchSocket.createBridge(name: "sw")
            let bridge = try #require(try switchSocket.link(named: "sw"))
            try switchSocket.setLink(index: bridge.index, up: true)
            for i in 1...count {
                let (namespace, socket) = try addNamespace("n\(i)")
                try switchSocket.createVethPair(name: "p\(i)", peerName: "eth0", peerNamespaceFD: namespace.fd)
                let port = try #require(try switchSocket.link(named: "p\(i)"))
                try switchSocket.setLink(index: port.index, up: true, masterIndex: bridge.index)
                let eth0 = try #require(try socket.link(named: "eth0"))
                let address = IPAddress("192.168.50.\(10 + i)")!
                try socket.addAddress(IPPrefix(address: address, length: 24)!, index: eth0.index)
                try socket.setLink(index: eth0.index, up: true)
                let lo = try #require(try socket.link(named: "lo"))
                try socket.setLink(index: lo.index, up: true)
                try socket.addRoute(Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("192.168.50.1"),
                                          outputIndex: eth0.index))
                nodes.append(Node(name: namespaces.last!, namespace: namespace, socket: socket, address: address,
                                  subnet: IPPrefix("10.244.\(i).0/24")!))
            }
        } catch {
            removeAll()
            throw error
        }
    }

    deinit { removeAll() }

    private func removeAll() {
        for name in namespaces { _ = try? ChildProcess.run(Self.ip, arguments: ["netns", "del", name]) }
        namespaces = []
    }

    /// A named namespace (so `ip netns exec` works in it) and a socket opened inside it.
    func addNamespace(_ suffix: String) throws -> (NetworkNamespace, RouteSocket) {
        let name = "\(prefix)-\(suffix)"
        try Self.run(Self.ip, ["netns", "add", name])
        namespaces.append(name)
        let namespace = try NetworkNamespace(path: "/run/netns/\(name)")
        let socket = try namespace.run { try RouteSocket() }
        return (namespace, socket)
    }

    /// A bridge `cni0` with the subnet's .1, standing in for the node's containers.
    func addPodGateway(_ node: Node) throws -> IPAddress {
        try node.socket.createBridge(name: "cni0")
        let bridge = try #require(try node.socket.link(named: "cni0"))
        let gateway = node.subnet.address.advanced(by: 1)!
        try node.socket.addAddress(IPPrefix(address: gateway, length: node.subnet.length)!, index: bridge.index)
        try node.socket.setLink(index: bridge.index, up: true)
        return gateway
    }

    /// Runs a command that must succeed; returns its stdout.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdin: String = "") throws -> String {
        let output = try ChildProcess.run(executable, arguments: arguments, environment: environment, stdin: Array(stdin.utf8))
        guard output.succeeded else {
            throw PluginError(.failed, "\(executable) \(arguments.joined(separator: " ")): \(output.termination)",
                              details: String(decoding: output.stderr, as: UTF8.self))
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    @discardableResult
    func inside(_ node: Node, _ arguments: [String], stdin: String = "") throws -> String {
        try Self.run(Self.ip, ["netns", "exec", node.name] + arguments, stdin: stdin)
    }

    func pings(from node: Node, source: IPAddress, to target: IPAddress) throws -> Bool {
        try ChildProcess.run(Self.ip, arguments: ["netns", "exec", node.name, "ping", "-c", "1", "-W", "2",
                                                  "-I", "\(source)", "\(target)"], environment: Self.environment).succeeded
    }
}

/// Underlay resolution against real links in a testbed node.
@Suite(.enabled(if: DataplaneTestbed.isAvailable, "needs root and ip to create network namespaces"))
struct DataplaneUnderlayTests {
    @Test func resolvesByNameAddressPublicIPAndDefaultRoute() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let node = testbed.nodes[0]
        let eth0 = try #require(try node.socket.link(named: "eth0"))
        let byDefault = try Underlay.resolve(socket: node.socket)
        #expect(byDefault == Underlay(index: eth0.index, name: "eth0", mtu: eth0.mtu, localAddress: node.address, publicIP: node.address))
        #expect(try Underlay.resolve(interface: "eth0", socket: node.socket) == byDefault)
        #expect(try Underlay.resolve(interface: "192.168.50.11", socket: node.socket) == byDefault)
        #expect(try Underlay.resolve(publicIP: node.address, socket: node.socket) == byDefault)

        // A public address behind NAT: advertised, but the tunnel leaves from the interface's.
        let natted = try Underlay.resolve(publicIP: IPAddress("203.0.113.7"), socket: node.socket)
        #expect(natted.index == eth0.index && natted.localAddress == node.address && natted.publicIP == IPAddress("203.0.113.7"))
    }

    @Test func explainsWhatIsMissing() throws {
        let testbed = try DataplaneTestbed(nodes: 1)
        let socket = testbed.nodes[0].socket
        #expect(throws: DataplaneError("interface eth9 not found")) {
            try Underlay.resolve(interface: "eth9", socket: socket)
        }
        #expect(throws: DataplaneError("address 10.9.9.9 (--iface) is not assigned to any interface")) {
            try Underlay.resolve(interface: "10.9.9.9", socket: socket)
        }
        #expect(throws: DataplaneError("interface lo has no IPv4 address")) {
            try Underlay.resolve(interface: "lo", socket: socket)
        }
        try socket.deleteRoute(Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("192.168.50.1")))
        #expect(throws: DataplaneError("there is no IPv4 default route to pick the underlay interface from; pass --iface")) {
            try Underlay.resolve(socket: socket)
        }
    }
}
