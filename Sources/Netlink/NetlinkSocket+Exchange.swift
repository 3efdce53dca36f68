import Glibc

/// What the kernel answered to one request of an exchange.
struct KernelReply {
    /// Data messages (RTM_NEW*), for gets and dumps.
    var messages: [ReceivedMessage] = []
    var failure: NetlinkError?
    /// Some message carried NLM_F_DUMP_INTR: the dump may mix old and new state.
    var wasInterrupted = false
    var isComplete = false
}

extension NetlinkSocket {
    /// Upper bound for one sendto; larger batches go out in several datagrams.
    static let maximumDatagramSize = 32 * 1024
    /// Upper bound of requests per datagram. Every request gets its own ack, and the kernel
    /// queues all of a datagram's acks before we read any; each costs about 1 KiB of receive
    /// buffer, so an unbounded batch overflows it (ENOBUFS, lost acks). 128 acks fit even the
    /// default 208 KiB buffer with extended-ack text in every one.
    static let maximumRequestsPerDatagram = 128
    /// A dump that keeps being interrupted by concurrent changes is retried this often.
    static let dumpAttempts = 5

    /// Sends the requests in one datagram and reads until every one that asks for a reply
    /// (NLM_F_ACK or NLM_F_DUMP) is answered.
    ///
    /// Each request has its own sequence number; replies are matched by it, never by order,
    /// and replies to other sequences (a request abandoned earlier) are dropped. A socket
    /// failure throws; a kernel refusal lands in that request's reply. A request that asks
    /// for no reply is answered only when it fails: an nfnetlink batch begin/end marker that
    /// fails means the kernel refused the datagram as a whole, so that becomes every pending
    /// reply's failure; any other (a change sent without NLM_F_ACK) fails alone. The kernel
    /// handles a datagram in order, so such failures arrive before the last ack.
    func exchange(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [KernelReply] {
        guard !requests.isEmpty else { return [] }
        return try withExclusiveAccess { () throws(NetlinkError) -> [KernelReply] in
            let first = reserveSequences(requests.count)
            var datagram: [UInt8] = []
            datagram.reserveCapacity(requests.reduce(0) { $0 + $1.encodedLength })
            for (index, request) in requests.enumerated() {
                request.encode(sequence: first &+ UInt32(index), into: &datagram)
            }
            let answered = requests.filter(\.expectsReply)
            let operation = answered.count == 1
                ? answered[0].operation : "batch of \(answered.count) netlink requests"
            try send(datagram, operation: operation)

            var replies = [KernelReply](repeating: KernelReply(), count: requests.count)
            var pending = answered.count
            while pending > 0 {
                for message in ReceivedMessage.split(try receive(operation: operation)) {
                    let index = Int(message.sequence &- first)
                    guard index < requests.count, !replies[index].isComplete else { continue }
                    guard requests[index].expectsReply else {
                        guard requests[index].isBatchMarker else {
                            replies[index].failure = message.failure(operation: requests[index].operation)
                            replies[index].isComplete = true
                            continue
                        }
                        guard let failure = message.failure(operation: operation) else { continue }
                        for other in replies.indices where !replies[other].isComplete {
                            replies[other].failure = failure
                            replies[other].isComplete = true
                        }
                        pending = 0
                        break
                    }
                    if message.isDumpInterrupted { replies[index].wasInterrupted = true }
                    if message.isError || message.isDone {
                        replies[index].failure = message.failure(operation: requests[index].operation)
                        replies[index].isComplete = true
                        pending -= 1
                    } else {
                        replies[index].messages.append(message)
                    }
                }
            }
            return replies
        }
    }

    /// Sends a batch and returns each request's outcome, in request order.
    ///
    /// Link, address and route changes are not atomic as a batch: earlier requests stay
    /// applied when a later one fails, so the caller decides what to roll back.
    func perform(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        try perform(requests, ackingLastOnly: false)
    }

    /// `perform` for large batches of independent change requests (adds and deletes; no
    /// dumps, gets or echoes): in each datagram only the last request asks for an ack.
    ///
    /// That loses nothing: the kernel answers a failed request whether or not it asked, and
    /// it handles a datagram's requests in order, so once the last one's ack is in, every
    /// earlier failure has arrived. What it saves is a receive, a copy and an ack message per
    /// request: for the thousands of routes, neighbours and FDB entries of a large cluster,
    /// thousands of syscalls.
    func performAckingLast(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        try perform(requests, ackingLastOnly: true)
    }

    private func perform(_ requests: [NetlinkRequest], ackingLastOnly: Bool) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        var outcomes: [Result<Void, NetlinkError>] = []
        outcomes.reserveCapacity(requests.count)
        for chunk in Self.datagramSizedChunks(requests) {
            let sent = ackingLastOnly ? chunk.dropLast().map(\.withoutAck) + [chunk[chunk.count - 1]] : chunk
            for reply in try exchange(sent) {
                outcomes.append(reply.failure.map { .failure($0) } ?? .success(()))
            }
        }
        return outcomes
    }

    /// Sends one request and throws the kernel's refusal, if any.
    func perform(_ request: NetlinkRequest) throws(NetlinkError) {
        if let failure = try exchange([request])[0].failure { throw failure }
    }

    /// A get of one object: its reply messages, or the kernel's refusal.
    func query(_ request: NetlinkRequest) throws(NetlinkError) -> [ReceivedMessage] {
        let reply = try exchange([request])[0]
        if let failure = reply.failure { throw failure }
        return reply.messages
    }

    /// A full dump, retried when the kernel flags it as interrupted by a concurrent change
    /// (or when the socket overran and lost part of it).
    func dump(_ request: NetlinkRequest) throws(NetlinkError) -> [ReceivedMessage] {
        var lastProblem = NetlinkError(operation: request.operation, errno: EINTR,
                                       kernelMessage: "dump kept being interrupted")
        for _ in 0..<Self.dumpAttempts {
            let reply: KernelReply
            do {
                reply = try exchange([request])[0]
            } catch where error.errno == ENOBUFS {
                lastProblem = error
                continue
            }
            if let failure = reply.failure { throw failure }
            if !reply.wasInterrupted { return reply.messages }
        }
        throw lastProblem
    }

    static func datagramSizedChunks(_ requests: [NetlinkRequest]) -> [[NetlinkRequest]] {
        var chunks: [[NetlinkRequest]] = []
        var current: [NetlinkRequest] = []
        var size = 0
        for request in requests {
            let length = request.encodedLength
            if !current.isEmpty && (size + length > maximumDatagramSize || current.count >= maximumRequestsPerDatagram) {
                chunks.append(current)
                current = []
                size = 0
            }
            current.append(request)
            size += length
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
