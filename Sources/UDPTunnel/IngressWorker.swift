import CMnl
import Glibc

/// The UDP socket to one TUN queue: receives a batch of datagrams (recvmmsg; on the offload
/// path each may be a UDP_GRO train of same-sized datagrams from one sender), checks every
/// packet (`IngressCheck`), joins consecutive TCP segments (`Coalescer`) and writes them to
/// the TUN device, a super-packet per write. Owned by its thread.
final class IngressWorker: @unchecked Sendable {
    /// A GRO train is at most 64 KiB; one more byte tells a cut datagram (MSG_TRUNC).
    static let bufferBytes = 65536

    let tun: Int32
    let socket: Int32
    let virtioHeader: Bool
    let batch: Int
    /// Join TCP segments before the TUN write (off: each packet alone, with a plain header).
    let coalesce: Bool
    private var state: WorkerState
    /// flannel0's MTU, read when the peer table changes (the agent sets it after creating
    /// the tunnel, before handing it peers).
    private var maximumLength = 65535
    let deviceName: String

    private let buffers: UnsafeMutableRawPointer
    private let names: UnsafeMutablePointer<sockaddr_in>
    private let controls: UnsafeMutableRawPointer
    private let controlSize = cmnl_udp_cmsg_space()
    private let iovecs: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<cmnl_mmsghdr>
    /// The rebuilt headers of one super-packet.
    private let outBuffer: UnsafeMutableRawPointer
    /// Headers + one payload per packet of a run.
    private let writeIovecs: UnsafeMutablePointer<iovec>
    private var packets: [PacketRef] = []
    private var runs: [Range<Int>] = []
    private var zeroHeader = [UInt8](repeating: 0, count: VirtioNetHeader.size)

    init(tun: Int32, socket: Int32, deviceName: String, virtioHeader: Bool, batch: Int, coalesce: Bool, shared: TunnelShared, counters: WorkerCounters) {
        self.deviceName = deviceName
        self.tun = tun
        self.socket = socket
        self.virtioHeader = virtioHeader
        self.batch = batch
        self.coalesce = coalesce
        state = WorkerState(shared: shared, counters: counters)
        buffers = .allocate(byteCount: batch * Self.bufferBytes, alignment: 16)
        names = .allocate(capacity: batch)
        controls = .allocate(byteCount: batch * controlSize, alignment: 16)
        iovecs = .allocate(capacity: batch)
        messages = .allocate(capacity: batch)
        outBuffer = .allocate(byteCount: VirtioNetHeader.size + 120, alignment: 16)
        writeIovecs = .allocate(capacity: Coalescer.maximumSegments + 1)
        packets.reserveCapacity(batch * 64)
    }

    deinit {
        buffers.deallocate()
        names.deallocate()
        controls.deallocate()
        iovecs.deallocate()
        messages.deallocate()
        outBuffer.deallocate()
        writeIovecs.deallocate()
    }

    func run() {
        while !state.shared.isStopping {
            if state.refresh() {
                let mtu = cmnl_interface_mtu(socket, deviceName)
                maximumLength = mtu > 0 ? Int(mtu) : 65535
            }
            prepareMessages()
            let n = cmnl_recvmmsg(socket, messages, UInt32(batch), Int32(MSG_DONTWAIT))
            if n < 0 {
                if !state.idle(socket, error: errno) { break }
                continue
            }
            packets.removeAll(keepingCapacity: true)
            for i in 0..<Int(n) { accept(message: i) }
            deliver()
        }
        state.flush()
    }

    private func prepareMessages() {
        for i in 0..<batch {
            iovecs[i] = iovec(iov_base: buffers + i * Self.bufferBytes, iov_len: Self.bufferBytes)
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(names + i)
            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            header.msg_iov = iovecs + i
            header.msg_iovlen = 1
            if virtioHeader {
                header.msg_control = controls + i * controlSize
                header.msg_controllen = controlSize
            }
            messages[i] = cmnl_mmsghdr(msg_hdr: header, msg_len: 0)
        }
    }

    /// Checks the packets of message `i` and queues those that pass.
    private func accept(message i: Int) {
        let length = Int(messages[i].msg_len)
        guard messages[i].msg_hdr.msg_flags & Int32(MSG_TRUNC) == 0 else { return state.local.drop(.oversized) }
        let address = UInt32(bigEndian: names[i].sin_addr.s_addr)
        let port = UInt16(bigEndian: names[i].sin_port)
        var segment = virtioHeader ? Int(cmnl_udp_gro_size(&messages[i].msg_hdr)) : 0
        if segment <= 0 { segment = max(length, 1) }
        let base = UnsafeRawPointer(buffers + i * Self.bufferBytes)
        var offset = 0
        while offset < length {
            let count = min(segment, length - offset)
            let packet = base + offset
            switch state.shared.ingress.check(packet, count: count, table: state.table, address: address, port: port,
                                        maximumLength: maximumLength) {
            case .success(let peer):
                state.local.received(peer: peer, packets: 1, bytes: count)
                packets.append(PacketRef(pointer: packet, count: count))
            case .failure(let reason):
                state.local.drop(reason)
            }
            offset += count
        }
        if length == 0 { state.local.drop(.truncated) }
    }

    private func deliver() {
        guard virtioHeader else {
            for packet in packets where write(tun, packet.pointer, packet.count) < 0 { state.local.drop(.tunWriteFailed) }
            return
        }
        if coalesce {
            Coalescer.runs(packets, into: &runs)
        } else {
            runs.removeAll(keepingCapacity: true)
            for i in packets.indices { runs.append(i..<(i + 1)) }
        }
        for run in runs {
            if run.count == 1 {
                let packet = packets[run.lowerBound]
                let rc = zeroHeader.withUnsafeMutableBytes { header in
                    var parts = [iovec(iov_base: header.baseAddress, iov_len: VirtioNetHeader.size),
                                 iovec(iov_base: UnsafeMutableRawPointer(mutating: packet.pointer), iov_len: packet.count)]
                    return writev(tun, &parts, 2)
                }
                if rc < 0 { state.local.drop(.tunWriteFailed) }
            } else {
                // One write per run: the rebuilt headers, then every payload where it lies.
                let slice = packets[run]
                let headerLength = Coalescer.buildHeader(slice, into: outBuffer)
                writeIovecs[0] = iovec(iov_base: outBuffer, iov_len: headerLength)
                for (k, packet) in slice.enumerated() {
                    let size = Coalescer.payload(packet)
                    writeIovecs[k + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: packet.pointer + packet.count - size), iov_len: size)
                }
                if writev(tun, writeIovecs, Int32(run.count + 1)) < 0 { state.local.drop(.tunWriteFailed, run.count) }
            }
        }
    }
}
