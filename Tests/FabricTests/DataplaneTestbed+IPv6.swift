import CNI
import NetTypes
import Netlink
import Testing
@testable import Dataplane

/// The testbed's IPv6 side: node i has fd00:50::(10+i)/64 on eth0 next to its IPv4 address
/// (and fe80::5c:(10+i)) and the pod subnet fd00:244:i::/64, all without DAD, so they are
/// usable at once.
extension DataplaneTestbed {
    static func ipv6Address(_ node: Int) -> IPAddress { IPAddress("fd00:50::\(10 + node)")! }
    static func ipv6Subnet(_ node: Int) -> IPPrefix { IPPrefix("fd00:244:\(node)::/64")! }

    /// Adds the IPv6 underlay address to every node (1-based `nodes`, default all).
    func addIPv6Underlay(_ which: [Int]? = nil) throws {
        for i in which ?? Array(1...nodes.count) {
            let node = nodes[i - 1]
            let eth0 = try #require(try node.socket.link(named: "eth0"))
            try node.socket.addAddress(IPPrefix(address: Self.ipv6Address(i), length: 64)!, index: eth0.index, noDAD: true)
            // Neighbour solicitations for a next hop leave from a link-local address; the
            // kernel's own is tentative for ~2 s after eth0 came up, so a ready one is added.
            try node.socket.addAddress(IPPrefix("fe80::5c:\(10 + i)/64")!, index: eth0.index, noDAD: true)
        }
    }

    /// The underlay of node i (1-based) with its IPv6 side read from eth0.
    func dualStackUnderlay(_ i: Int) throws -> Underlay {
        let node = nodes[i - 1]
        return try Underlay.resolve(interface: "eth0", socket: node.socket).withIPv6(socket: node.socket)
    }

    /// A veth `pod6` (its peer `pod6p` in the same node, so it has carrier) holding the v6
    /// subnet's ::1, standing in for the node's containers.
    func addIPv6PodGateway(_ i: Int) throws -> IPAddress {
        let node = nodes[i - 1]
        try inside(node, [Self.ip, "link", "add", "pod6", "type", "veth", "peer", "name", "pod6p"])
        let link = try #require(try node.socket.link(named: "pod6"))
        let gateway = Self.ipv6Subnet(i).address.advanced(by: 1)!
        try node.socket.addAddress(IPPrefix(address: gateway, length: 64)!, index: link.index, noDAD: true)
        try node.socket.setLink(index: link.index, up: true)
        try node.socket.setLink(index: try #require(try node.socket.link(named: "pod6p")).index, up: true)
        return gateway
    }

    /// Node i's view of peer j (1-based): both halves, VTEP MACs when given.
    static func dualStackPeer(_ j: Int, v4: IPAddress, mac: MACAddress? = nil, macV6: MACAddress? = nil) -> Peer {
        Peer(subnet: IPPrefix("10.244.\(j).0/24")!, publicIP: v4, vtepMAC: mac,
             ipv6Subnet: ipv6Subnet(j), publicIPv6: ipv6Address(j), vtepMACv6: macV6)
    }

    func pings6(from node: Node, source: IPAddress, to target: IPAddress) throws -> Bool {
        try ChildProcess.run(Self.ip, arguments: ["netns", "exec", node.name, "ping", "-6", "-c", "1", "-W", "2",
                                                  "-I", "\(source)", "\(target)"], environment: Self.environment).succeeded
    }

    /// Our routes (protocol swift-cni) of one family in node `node`.
    static func ourRoutes(_ node: Node, _ family: IPAddress.Family) throws -> [Route] {
        try node.socket.routes(family: family).filter { $0.routeProtocol == .swiftCNI }
    }
}
