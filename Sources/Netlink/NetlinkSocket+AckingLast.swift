import CMnl

extension NetlinkSocket {
    /// `perform` for large batches of independent change requests (adds and deletes; no
    /// dumps, gets or echoes): in each datagram only the last request asks for an ack.
    ///
    /// That loses nothing: the kernel answers a failed request whether or not it asked
    /// (netlink acks every error), and it handles a datagram's requests in order, so once the
    /// last one's ack is in, every earlier failure has arrived before it. What it saves is a
    /// receive, a copy and an ack message per request: for the thousands of routes,
    /// neighbours and FDB entries of a large cluster, thousands of syscalls.
    func performAckingLast(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        var outcomes: [Result<Void, NetlinkError>] = []
        outcomes.reserveCapacity(requests.count)
        for chunk in Self.datagramSizedChunks(requests) {
            outcomes += try withExclusiveAccess { () throws(NetlinkError) -> [Result<Void, NetlinkError>] in
                let first = reserveSequences(chunk.count)
                var datagram: [UInt8] = []
                datagram.reserveCapacity(chunk.reduce(0) { $0 + $1.encodedLength })
                for (index, request) in chunk.enumerated() {
                    let quiet = index == chunk.count - 1 ? request : request.withoutAck
                    quiet.encode(sequence: first &+ UInt32(index), into: &datagram)
                }
                let operation = chunk.count == 1 ? chunk[0].operation : "batch of \(chunk.count) netlink requests"
                try send(datagram, operation: operation)
                var results = [Result<Void, NetlinkError>](repeating: .success(()), count: chunk.count)
                var lastAnswered = false
                while !lastAnswered {
                    for message in ReceivedMessage.split(try receive(operation: operation)) where message.isError {
                        let index = Int(message.sequence &- first)
                        guard index < chunk.count else { continue }  // a reply to an abandoned earlier request
                        if let failure = message.failure(operation: chunk[index].operation) {
                            results[index] = .failure(failure)
                        }
                        if index == chunk.count - 1 { lastAnswered = true }
                    }
                }
                return results
            }
        }
        return outcomes
    }
}

extension NetlinkRequest {
    /// The same request without NLM_F_ACK: the kernel then answers only if it fails.
    var withoutAck: NetlinkRequest {
        NetlinkRequest(operation: operation, messageType: messageType, flags: flags & ~UInt16(NLM_F_ACK), payload: payload)
    }
}
