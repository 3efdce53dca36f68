/// How many round trips a batch costs, for callers that report their netlink traffic.
extension RouteSocket {
    /// The number of datagrams (each one send and the reads for its acks) that
    /// `perform(_:)` uses for `requests`: large batches are split to fit the kernel's limit.
    package static func roundTrips(for requests: [NetlinkRequest]) -> Int {
        NetlinkSocket.datagramSizedChunks(requests).count
    }
}
