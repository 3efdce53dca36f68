@testable import UDPTunnel

/// Builds IPv4 packets byte by byte, with checksums from a straightforward RFC 1071 loop
/// (independent of the engine's eight-bytes-at-a-time sum it checks).
enum PacketBuilder {
    static func referenceSum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return UInt16(sum)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    static func ipHeader(protocol proto: UInt8, source: UInt32, destination: UInt32, payloadLength: Int, id: UInt16 = 0x1234,
                         ttl: UInt8 = 64, tos: UInt8 = 0, flags: UInt16 = 0x4000, options: [UInt8] = []) -> [UInt8] {
        let headerLength = 20 + options.count
        var h: [UInt8] = [UInt8(0x40 | headerLength / 4), tos] + be16(UInt16(headerLength + payloadLength)) + be16(id) + be16(flags)
            + [ttl, proto, 0, 0] + be32(source) + be32(destination) + options
        let c = ~referenceSum(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xff)
        return h
    }

    static func pseudo(_ source: UInt32, _ destination: UInt32, _ proto: UInt8, _ length: Int) -> [UInt8] {
        be32(source) + be32(destination) + [0, proto] + be16(UInt16(length))
    }

    static func tcp(source: UInt32 = 0x0af4_0105, destination: UInt32 = 0x0af4_0207, sourcePort: UInt16 = 40000,
                    destinationPort: UInt16 = 5201, sequence: UInt32 = 1000, ack: UInt32 = 555, flags: UInt8 = 0x10,
                    window: UInt16 = 500, options: [UInt8] = [], payload: [UInt8], id: UInt16 = 0x1234, tos: UInt8 = 0,
                    ttl: UInt8 = 64, ipFlags: UInt16 = 0x4000, ipOptions: [UInt8] = []) -> [UInt8] {
        let headerLength = 20 + options.count
        var t: [UInt8] = be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(ack)
            + [UInt8(headerLength / 4) << 4, flags] + be16(window) + [0, 0, 0, 0] + options + payload
        let c = ~referenceSum(pseudo(source, destination, 6, t.count) + t)
        t[16] = UInt8(c >> 8); t[17] = UInt8(c & 0xff)
        return ipHeader(protocol: 6, source: source, destination: destination, payloadLength: t.count, id: id, ttl: ttl,
                        tos: tos, flags: ipFlags, options: ipOptions) + t
    }

    static func udp(source: UInt32 = 0x0af4_0105, destination: UInt32 = 0x0af4_0207, sourcePort: UInt16 = 4000,
                    destinationPort: UInt16 = 53, payload: [UInt8]) -> [UInt8] {
        var u: [UInt8] = be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        let c = ~referenceSum(pseudo(source, destination, 17, u.count) + u)
        u[6] = UInt8(c >> 8); u[7] = UInt8(c & 0xff)
        return ipHeader(protocol: 17, source: source, destination: destination, payloadLength: u.count) + u
    }

    static func icmp(source: UInt32 = 0x0af4_0105, destination: UInt32 = 0x0af4_0907, type: UInt8 = 8, payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]) -> [UInt8] {
        var m: [UInt8] = [type, 0, 0, 0, 0, 1, 0, 1] + payload
        let c = ~referenceSum(m)
        m[2] = UInt8(c >> 8); m[3] = UInt8(c & 0xff)
        return ipHeader(protocol: 1, source: source, destination: destination, payloadLength: m.count) + m
    }

    /// Whether the IPv4 header checksum and the TCP/UDP/ICMP checksum of `p` are valid.
    static func checksumsValid(_ p: [UInt8]) -> Bool {
        let ihl = Int(p[0] & 0x0f) * 4
        guard referenceSum(Array(p[0..<ihl])) == 0xffff else { return false }
        let source = UInt32(p[12]) << 24 | UInt32(p[13]) << 16 | UInt32(p[14]) << 8 | UInt32(p[15])
        let destination = UInt32(p[16]) << 24 | UInt32(p[17]) << 16 | UInt32(p[18]) << 8 | UInt32(p[19])
        let body = Array(p[ihl...])
        switch p[9] {
        case 1: return referenceSum(body) == 0xffff
        default: return referenceSum(pseudo(source, destination, p[9], body.count) + body) == 0xffff
        }
    }

    static func tcpPayload(_ p: [UInt8]) -> [UInt8] {
        let ihl = Int(p[0] & 0x0f) * 4
        return Array(p[(ihl + Int(p[ihl + 12] >> 4) * 4)...])
    }

    static func bytes(_ n: Int, seed: Int = 7) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 17 &+ $0 >> 8) } }
}

extension Array where Element == UInt8 {
    func be16(_ i: Int) -> UInt16 { UInt16(self[i]) << 8 | UInt16(self[i + 1]) }
    func be32(_ i: Int) -> UInt32 { UInt32(be16(i)) << 16 | UInt32(be16(i + 2)) }
}
