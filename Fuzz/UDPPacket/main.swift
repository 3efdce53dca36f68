@testable import UDPTunnel
import NetTypes
import Glibc

/// The UDP backend's two untrusted inputs. Byte 0 picks the path:
/// - even: a datagram from the underlay (bytes 1-2 a UDP_GRO segment size, byte 3 picks the
///   sender), through the ingress check and the TCP coalescer, as IngressWorker does;
/// - odd: a TUN read on the offload path (bytes 1-10 a virtio-net header, then the packet),
///   through the segmenter in UDP_SEGMENT-sized chunks, as EgressWorker does, and the ICMP
///   net-unreachable builder.
/// Checks beyond no crash: every accepted packet is one whole IPv4 packet; a built
/// super-packet is as long as announced and keeps every payload byte; segments are whole
/// packets no longer than a full segment, and their payloads join back to the original.
let table = PeerTable([
    UDPPeer(subnet: IPPrefix("10.244.2.0/24")!, publicAddress: IPAddress("192.0.2.2")!, port: 8285),
    UDPPeer(subnet: IPPrefix("10.244.3.0/24")!, publicAddress: IPAddress("192.0.2.3")!, port: 8285),
])
let check = IngressCheck(ownNetwork: 0x0af4_0100, ownMask: 0xffff_ff00)

func ingress(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= 3 else { return }
    var segment = Int(bytes[0]) << 8 | Int(bytes[1])
    let sender: UInt32 = bytes[2] & 1 == 0 ? 0xc000_0202 : 0xc000_0203
    let datagram = UnsafeRawBufferPointer(rebasing: bytes[3...])
    if segment == 0 { segment = max(datagram.count, 1) }
    var packets: [PacketRef] = []
    var offset = 0
    while offset < datagram.count {
        let count = min(segment, datagram.count - offset)
        let p = datagram.baseAddress! + offset
        if case .success = check.check(p, count: count, table: table, address: sender, port: 8285, maximumLength: 1472) {
            precondition(IPv4Header.validate(p, count: count) == nil && count <= 1472)
            packets.append(PacketRef(pointer: p, count: count))
        }
        offset += count
    }
    var runs: [Range<Int>] = []
    Coalescer.runs(packets, into: &runs)
    precondition(runs.reduce(0) { $0 + $1.count } == packets.count)
    for run in runs where run.count > 1 {
        let slice = packets[run]
        let length = Coalescer.builtLength(slice)
        let out = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 16)
        defer { out.deallocate() }
        precondition(Coalescer.build(slice, into: out) == length)
        let packet = UnsafeRawPointer(out + VirtioNetHeader.size)
        precondition(IPv4Header.totalLength(packet) == length - VirtioNetHeader.size && length - VirtioNetHeader.size <= 65535)
        let payloads = slice.reduce(0) { $0 + Coalescer.payload($1) }
        precondition(length - VirtioNetHeader.size - 20 - TCPHeader.headerLength(packet + 20) == payloads)
    }
}

func egress(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= VirtioNetHeader.size else { return }
    let header = VirtioNetHeader(reading: bytes.baseAddress!)
    let count = bytes.count - VirtioNetHeader.size
    let packet = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
    defer { packet.deallocate() }
    packet.copyMemory(from: bytes.baseAddress! + VirtioNetHeader.size, byteCount: count)
    let icmp = UnsafeMutableRawPointer.allocate(byteCount: NetUnreachable.maximumLength, alignment: 16)
    defer { icmp.deallocate() }
    if let n = NetUnreachable.build(offender: packet, count: count, source: 0x0af4_0901, into: icmp) {
        precondition(n <= NetUnreachable.maximumLength && IPv4Header.validate(icmp, count: n) == nil)
    }
    guard case .success(.segments(let plan)) = Segmenter.prepare(header, packet: packet, count: count) else { return }
    let perSend = max(1, min(EgressWorker.segmentsPerSend, EgressWorker.maximumSendBytes / plan.segmentLength))
    let out = UnsafeMutableRawPointer.allocate(byteCount: max(EgressWorker.maximumSendBytes, plan.segmentLength), alignment: 16)
    defer { out.deallocate() }
    var first = 0, joined = 0
    while first < plan.count {
        let n = min(perSend, plan.count - first)
        let bytes = Segmenter.write(plan, packet: packet, first: first, count: n, into: out)
        precondition(bytes == plan.bytes(first: first, count: n))
        var offset = 0
        while offset < bytes {
            let s = UnsafeRawPointer(out + offset)
            let length = IPv4Header.totalLength(s)
            precondition(length > plan.headerLength && length <= plan.segmentLength && IPv4Header.validate(s, count: length) == nil)
            precondition(memcmp(s + plan.headerLength, packet + plan.headerLength + joined, length - plan.headerLength) == 0)
            joined += length - plan.headerLength
            offset += length
        }
        first += n
    }
    precondition(joined == plan.payloadTotal)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 { ingress(rest) } else { egress(rest) }
    return 0
}
