import CMnl
import Glibc

/// One TUN queue to the UDP socket: reads what the node routes into flannel0, picks the
/// peer by inner destination, and sends. On the offload path a read may be a TCP/UDP
/// super-packet, cut by `Segmenter` and sent with one UDP_SEGMENT sendmsg per up to 64
/// segments (the kernel sends them as separate datagrams, each an ordinary packet); without
/// working UDP GSO the segments go with one sendmmsg. Only the headers are written anew:
/// payloads are sent from where the read put them. Owned by its thread.
final class EgressWorker: @unchecked Sendable {
    /// Segments per UDP_SEGMENT send (the kernel's UDP_MAX_SEGMENTS was 64 before 6.x).
    static let segmentsPerSend = 64
    /// Payload of one UDP send: 65535 minus the outer IP and UDP headers.
    static let maximumSendBytes = 65507

    let tun: Int32
    let socket: Int32
    let virtioHeader: Bool
    private(set) var gso: Bool
    private var state: WorkerState
    private var table: PeerTable { state.table }

    private let readBuffer: UnsafeMutableRawPointer
    private let readCapacity = 65536 + VirtioNetHeader.size
    /// Room for one send's segment headers (IP and TCP headers of at most 60 bytes each).
    static let maximumHeaderLength = 120
    private let headerBuffer: UnsafeMutableRawPointer
    private let icmpBuffer: UnsafeMutableRawPointer
    private let messages: UnsafeMutablePointer<cmnl_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let control: UnsafeMutableRawPointer

    init(tun: Int32, socket: Int32, virtioHeader: Bool, gso: Bool, shared: TunnelShared, counters: WorkerCounters) {
        self.tun = tun
        self.socket = socket
        self.virtioHeader = virtioHeader
        self.gso = gso
        state = WorkerState(shared: shared, counters: counters)
        readBuffer = .allocate(byteCount: readCapacity, alignment: 16)
        headerBuffer = .allocate(byteCount: Self.segmentsPerSend * Self.maximumHeaderLength, alignment: 16)
        icmpBuffer = .allocate(byteCount: VirtioNetHeader.size + NetUnreachable.maximumLength, alignment: 16)
        control = .allocate(byteCount: cmnl_udp_cmsg_space(), alignment: 16)
        messages = .allocate(capacity: Self.segmentsPerSend)
        iovecs = .allocate(capacity: 2 * Self.segmentsPerSend)
    }

    deinit {
        readBuffer.deallocate()
        headerBuffer.deallocate()
        messages.deallocate()
        iovecs.deallocate()
        icmpBuffer.deallocate()
        control.deallocate()
    }

    func run() {
        while !state.shared.isStopping {
            _ = state.refresh()
            let n = read(tun, readBuffer, readCapacity)
            if n < 0 {
                if !state.idle(tun, error: errno) { break }
                continue
            }
            handle(count: n)
        }
        state.flush()
    }

    private func handle(count n: Int) {
        let offset = virtioHeader ? VirtioNetHeader.size : 0
        guard n >= offset + IPv4Header.minimumLength else { return state.local.drop(.truncated) }
        let packet = readBuffer + offset
        let count = n - offset
        guard IPv4Header.version(packet) == 4 else { return state.local.drop(.notIPv4) }
        switch state.shared.egress.decide(destination: IPv4Header.destination(packet), table: table) {
        case .drop(let reason):
            state.local.drop(reason)
        case .unreachable:
            state.local.drop(.noRoute)
            sendUnreachable(packet, count: count)
        case .peer(let peer):
            if !virtioHeader {
                if let reason = IPv4Header.validate(packet, count: count) { return state.local.drop(reason) }
                return sendOne(UnsafeRawPointer(packet), count: count, peer: peer)
            }
            switch Segmenter.prepare(VirtioNetHeader(reading: readBuffer), packet: packet, count: count) {
            case .failure(let reason): state.local.drop(reason)
            case .success(.single): sendOne(UnsafeRawPointer(packet), count: count, peer: peer)
            case .success(.segments(let plan)): sendSegments(plan, packet: UnsafeRawPointer(packet), peer: peer)
            }
        }
    }

    private func destination(_ peer: Int) -> sockaddr_in {
        let p = table.peers[peer]
        return UDPSocket.address(PeerTable.v4(p.publicAddress), p.port)
    }

    private func sendOne(_ packet: UnsafeRawPointer, count: Int, peer: Int) {
        var to = destination(peer)
        let rc = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket, packet, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc < 0 { state.local.drop(.sendFailed) } else { state.local.sent(peer: peer, packets: 1, bytes: count) }
    }

    private func sendSegments(_ plan: Segmenter.SegmentPlan, packet: UnsafeRawPointer, peer: Int) {
        let perSend = max(1, min(Self.segmentsPerSend, Self.maximumSendBytes / plan.segmentLength))
        var to = destination(peer)
        var first = 0
        while first < plan.count {
            let n = min(perSend, plan.count - first)
            // Headers into the header buffer, payloads left where they are: each segment is
            // two iovecs, and the kernel cuts the stream at segment boundaries.
            var bytes = 0
            for k in 0..<n {
                let header = headerBuffer + k * Self.maximumHeaderLength
                let length = Segmenter.writeHeader(plan, packet: packet, segment: first + k, into: header)
                iovecs[2 * k] = iovec(iov_base: header, iov_len: plan.headerLength)
                iovecs[2 * k + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: packet + plan.headerLength + (first + k) * plan.payloadPerSegment),
                                          iov_len: length)
                bytes += plan.headerLength + length
            }
            if sendBatch(n: n, segmentLength: plan.segmentLength, to: &to) {
                state.local.sent(peer: peer, packets: n, bytes: bytes)
            } else {
                state.local.drop(.sendFailed, n)
            }
            first += n
        }
    }

    /// Sends the `n` segments described by the first 2n iovecs.
    private func sendBatch(n: Int, segmentLength: Int, to: inout sockaddr_in) -> Bool {
        if n == 1 || !gso { return sendEach(n: n, to: &to) }
        let rc = withUnsafeMutablePointer(to: &to) { name in
            var message = msghdr()
            message.msg_name = UnsafeMutableRawPointer(name)
            message.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            message.msg_iov = iovecs
            message.msg_iovlen = 2 * n
            message.msg_control = control
            cmnl_put_udp_segment(&message, UInt16(segmentLength))
            return sendmsg(socket, &message, 0)
        }
        if rc >= 0 { return true }
        let e = errno
        // EIO: the egress device cannot checksum-offload; EINVAL: the kernel refuses the
        // size. Either way GSO is off for this socket from now on.
        guard e == EIO || e == EINVAL else { return false }
        gso = false
        return sendEach(n: n, to: &to)
    }

    /// One datagram per segment, in one sendmmsg.
    private func sendEach(n: Int, to: inout sockaddr_in) -> Bool {
        withUnsafeMutablePointer(to: &to) { name in
            for i in 0..<n {
                messages[i] = cmnl_mmsghdr()
                messages[i].msg_hdr.msg_name = UnsafeMutableRawPointer(name)
                messages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                messages[i].msg_hdr.msg_iov = iovecs + 2 * i
                messages[i].msg_hdr.msg_iovlen = 2
            }
            var sent = 0
            while sent < n {
                let rc = cmnl_sendmmsg(socket, messages + sent, UInt32(n - sent), 0)
                if rc <= 0 { return false }
                sent += Int(rc)
            }
            return true
        }
    }

    private func sendUnreachable(_ packet: UnsafeMutableRawPointer, count: Int) {
        let offset = virtioHeader ? VirtioNetHeader.size : 0
        if virtioHeader { VirtioNetHeader().write(to: icmpBuffer) }
        guard let length = NetUnreachable.build(offender: packet, count: count, source: IPv4Header.destination(packet),
                                                into: icmpBuffer + offset) else { return }
        if write(tun, icmpBuffer, offset + length) < 0 { state.local.drop(.tunWriteFailed) } else { state.local.unreachableSent() }
    }
}
