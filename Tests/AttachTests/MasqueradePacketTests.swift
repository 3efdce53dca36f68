import CNI
import NetTypes
import Testing
@testable import Attach

/// Real packets through the masquerade: a node namespace routes between a container and an
/// outside host that has no route back to the container subnet, so a reply arrives only when
/// the node rewrote the source address.
@Suite(.enabled(if: MasqueradeFixture.privileged, "needs root, ip and nft"))
struct MasqueradePacketTests {
    @Test func masqueradesOutsideTheSubnetButNotInside() throws {
        try MasqueradeFixture.withNamespaces(3) { ns in
            let (node, container, outside) = (ns[0], ns[1], ns[2])
            try wire(node: node, container: container, outside: outside)
            let masq = MasqueradeFixture.masquerade(in: node)
            let ping = { (target: String) in try MasqueradeFixture.succeeds(in: container, ["ping", "-c1", "-W1", "-q", target]) }

            #expect(try !ping("192.168.77.2"), "no route back, so no reply without masquerade")
            try masq.setUp(network: "cbr", containerID: "a", ifname: "eth0", addresses: [IPPrefix("10.22.0.5/16")!])
            #expect(try ping("192.168.77.2"), "masqueraded to the node's address")
            #expect(try !ping("10.22.200.2"), "inside the container's /16: source kept, so no reply")
            _ = try MasqueradeFixture.inside(node, [MasqueradeFixture.nft!, "delete element inet swift_cni exempt4 { 10.22.0.5 . 10.22.0.0/16 }"])
            #expect(try ping("10.22.200.2"), "it was the exemption that kept the source")
            try masq.tearDown(network: "cbr", containerID: "a", ifname: "eth0", addresses: nil)
            #expect(try !ping("192.168.77.2"), "torn down")
        }
    }

    /// container 10.22.0.5/24 — node 10.22.0.1/24 | node 192.168.77.1/24, 10.22.200.1/24 —
    /// outside 192.168.77.2/24, 10.22.200.2/24 (no default route).
    private func wire(node: String, container: String, outside: String) throws {
        let ip = MasqueradeFixture.ip
        for (ns, link, peer) in [(container, "eth0", "vc"), (outside, "eth0", "vo")] {
            try MasqueradeFixture.run(ip, ["-n", ns, "link", "add", link, "type", "veth", "peer", "name", peer, "netns", node])
        }
        let addresses = [(container, "eth0", "10.22.0.5/24"), (node, "vc", "10.22.0.1/24"), (node, "vo", "192.168.77.1/24"),
                         (node, "vo", "10.22.200.1/24"), (outside, "eth0", "192.168.77.2/24"), (outside, "eth0", "10.22.200.2/24")]
        for (ns, link, address) in addresses {
            try MasqueradeFixture.run(ip, ["-n", ns, "addr", "add", address, "dev", link])
        }
        for (ns, link) in [(container, "eth0"), (node, "vc"), (node, "vo"), (outside, "eth0")] {
            try MasqueradeFixture.run(ip, ["-n", ns, "link", "set", link, "up"])
        }
        try MasqueradeFixture.run(ip, ["-n", container, "route", "add", "default", "via", "10.22.0.1"])
        _ = try MasqueradeFixture.inside(node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    }
}
