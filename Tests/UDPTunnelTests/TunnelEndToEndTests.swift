import CNI
import Glibc
import NetNS
import NetTypes
import Testing
@testable import UDPTunnel

/// The engine between two namespaces over a real veth underlay: traffic both ways, a
/// byte-identical 16 MiB TCP transfer, the ingress check against crafted datagrams, ICMP
/// net unreachable, and a restart onto the persistent device; on both paths.
@Suite(.enabled(if: TunnelTestbed.isAvailable, "needs root, ip and /dev/net/tun"), .serialized)
struct TunnelEndToEndTests {
    static let python = "/usr/bin/python3"

    /// Sends 16 MiB of seeded random bytes from node 0 to node 1 over TCP through the tunnel;
    /// both ends print the SHA-256 of what they sent/received.
    static func transfer(_ bed: TunnelTestbed, megabytes: Int = 16) throws -> (sent: String, received: String) {
        let server = """
            import socket, hashlib, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("\(bed.tunAddress(1))", 5001)); s.listen(1); s.settimeout(20)
            c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256(); n = 0
            while True:
                b = c.recv(1 << 20)
                if not b: break
                h.update(b); n += len(b)
            print(n, h.hexdigest())
            """
        let client = """
            import socket, hashlib, random, time
            data = random.Random(10).randbytes(\(megabytes) << 20)
            for _ in range(50):
                try:
                    c = socket.create_connection(("\(bed.tunAddress(1))", 5001), timeout=20); break
                except OSError: time.sleep(0.1)
            c.sendall(data); c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
            print(len(data), hashlib.sha256(data).hexdigest())
            """
        let script = """
            ip netns exec \(bed.names[1]) \(python) -c '\(server)' > /dev/fd/3 &
            ip netns exec \(bed.names[0]) \(python) -c '\(client)'
            wait
            """
        // The server's line comes on fd 3 -> a temporary file, read after both ended.
        let out = "/tmp/\(bed.names[1])-transfer"
        let result = try ChildProcess.run("/bin/bash", arguments: ["-c", "exec 3>\(out); " + script],
                                          environment: TunnelTestbed.environment)
        defer { unlink(out) }
        let received = (try? String(decoding: readAll(out), as: UTF8.self)) ?? ""
        let sent = String(decoding: result.stdout, as: UTF8.self)
        return (sent.trimmingSpaces, received.trimmingSpaces)
    }

    static func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// A datagram to node 1's port 8285 from `source`:`port` (an address added to node 0's
    /// eth0), carrying an ICMP echo from `innerSource` to node 1's flannel0.
    static func craft(_ bed: TunnelTestbed, source: String, port: Int, innerSource: String) throws {
        let script = """
            import socket, struct
            def ck(b):
                if len(b) % 2: b += b"\\0"
                s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
                return (~s) & 0xffff
            icmp = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"crafted!"
            icmp = icmp[:2] + struct.pack("!H", ck(icmp)) + icmp[4:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                             socket.inet_aton("\(innerSource)"), socket.inet_aton("\(bed.tunAddress(1))"))
            ip = ip[:10] + struct.pack("!H", ck(ip)) + ip[12:]
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("\(source)", \(port)))
            s.sendto(ip + icmp, ("\(bed.underlay(1))", 8285))
            """
        let out = try bed.exec(0, [python, "-c", script])
        guard out.succeeded else { throw UDPTunnelError("craft: " + String(decoding: out.stderr, as: UTF8.self)) }
    }

    /// Polls until `condition` holds (the forwarding threads count asynchronously).
    static func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<50 {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    @Test(arguments: [UDPTunnelPath.automatic, .plain])
    func carriesTrafficAndRefusesStrangers(path: UDPTunnelPath) throws {
        let bed = try TunnelTestbed()
        let a = try bed.startTunnel(0, path: path)
        let b = try bed.startTunnel(1, path: path)
        if path == .plain {
            #expect(a.pathDescription.hasPrefix("plain"))
        } else {
            #expect(a.pathDescription.hasPrefix("offload: tun vnet_hdr TSO4"), "\(a.pathDescription)")
        }
        #expect(try bed.pings(from: 0, to: bed.tunAddress(1)))
        #expect(try bed.pings(from: 1, to: bed.tunAddress(0)))

        let (sent, received) = try Self.transfer(bed)
        #expect(sent.hasPrefix("\(16 << 20) ") && sent == received, "sent \(sent), received \(received)")
        let out = a.statistics().peers[bed.subnet(1)] ?? UDPPeerTraffic()
        let into = b.statistics().peers[bed.subnet(0)] ?? UDPPeerTraffic()
        #expect(out.bytesOut > 16 << 20 && into.bytesIn > 16 << 20, "\(out) \(into)")
        // Nothing dropped but what the kernel itself sends into flannel0 over IPv6 (router
        // solicitations, MLD from its link-local address): flannel's mode is IPv4 only.
        for s in [a.statistics(), b.statistics()] {
            #expect(s.drops.filter { $0.key != .notIPv4 }.values.reduce(0, +) == 0, "\(s.drops.filter { $0.value > 0 })")
        }

        // Strangers: an underlay address that is no node, a node's address on another port,
        // and a sender that is a peer but speaks for another node's subnet.
        try bed.node(0, ["addr", "add", "192.0.2.77/24", "dev", "eth0"])
        b.replacePeers([bed.peer(0), UDPPeer(subnet: IPPrefix("10.244.7.0/24")!, publicAddress: IPAddress("192.0.2.77")!, port: 40000)])
        let before = b.statistics()
        try Self.craft(bed, source: "192.0.2.77", port: 8285, innerSource: "10.244.7.5")
        try Self.craft(bed, source: "192.0.2.1", port: 40001, innerSource: "10.244.1.5")
        try Self.craft(bed, source: "192.0.2.77", port: 40000, innerSource: "10.244.1.5")
        #expect(Self.eventually {
            let drops = b.statistics().drops
            return drops[.unknownSender]! == before.drops[.unknownSender]! + 2
                && drops[.foreignInnerSource]! == before.drops[.foreignInnerSource]! + 1
        }, "\(b.statistics().drops.filter { $0.value > 0 })")
        try Self.craft(bed, source: "192.0.2.77", port: 40000, innerSource: "10.244.7.5")
        #expect(Self.eventually { b.statistics().peers[IPPrefix("10.244.7.0/24")!]?.packetsIn == 1 })

        // No node owns 10.244.9.0/24: the sender hears so at once.
        let unreachable = try bed.exec(0, ["ping", "-c", "1", "-W", "1", "10.244.9.1"])
        #expect(String(decoding: unreachable.stdout, as: UTF8.self).contains("Destination Net Unreachable"),
                "\(String(decoding: unreachable.stdout, as: UTF8.self))")
        #expect(a.statistics().drops[.noRoute] == 1 && a.statistics().unreachablesSent == 1)
    }

    @Test func aRestartedTunnelTakesOverThePersistentDevice() throws {
        let bed = try TunnelTestbed()
        let a = try bed.startTunnel(0, path: .automatic)
        try bed.startTunnel(1, path: .automatic)
        #expect(try bed.pings(from: 0, to: bed.tunAddress(1)))
        a.stop()
        // The device, its address and route outlive the tunnel...
        let link = try bed.node(0, ["-o", "addr", "show", "dev", "flannel0"])
        #expect(link.contains("10.244.1.0/32"), "\(link)")
        #expect(try bed.node(0, ["route", "show", "10.244.0.0/16"]).contains("flannel0"))
        // ...and a new tunnel (here on the other path: offloads are cleared) attaches to it.
        let again = try NetworkNamespace(path: "/run/netns/\(bed.names[0])").run {
            try UDPTunnel(UDPTunnelConfiguration(publicAddress: bed.underlay(0), network: TunnelTestbed.network,
                                                 ownSubnet: bed.subnet(0), path: .plain))
        }
        bed.tunnels[0] = again
        again.replacePeers([bed.peer(1)])
        again.start()
        #expect(try bed.pings(from: 0, to: bed.tunAddress(1)))
        let (sent, received) = try Self.transfer(bed, megabytes: 4)
        #expect(!sent.isEmpty && sent == received)
    }

    @Test func explainsWhatStopsItFromStarting() throws {
        let bed = try TunnelTestbed()
        try bed.startTunnel(0, path: .plain)
        let namespace = try NetworkNamespace(path: "/run/netns/\(bed.names[0])")
        let busy = UDPTunnelConfiguration(deviceName: "flannel9", publicAddress: bed.underlay(0), network: TunnelTestbed.network,
                                          ownSubnet: bed.subnet(0))
        #expect(throws: UDPTunnelError.self) { try namespace.run { try UDPTunnel(busy) } }
        do {
            _ = try namespace.run { try UDPTunnel(busy) }
        } catch let error as UDPTunnelError {
            #expect(error.description.contains("port in use"), "\(error)")
        }
        var foreign = busy
        foreign.publicAddress = IPAddress("192.0.2.99")!
        do {
            _ = try namespace.run { try UDPTunnel(foreign) }
            Issue.record("bound an address the node does not have")
        } catch let error as UDPTunnelError {
            #expect(error.description.contains("not on this node"), "\(error)")
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
