import CMnl

/// The NETLINK_ROUTE socket every link, address, route and neighbour request goes through.
///
/// A typed face over the shared `NetlinkSocket` core, which owns sequence numbers and acks.
/// It belongs to the network namespace of the thread that opened it, for its whole life:
/// open it on a thread that entered (setns/unshare) the target namespace, then use it from
/// any thread.
package final class RouteSocket: @unchecked Sendable {
    let core: NetlinkSocket

    /// Opens the socket in the calling thread's network namespace, with extended acks and
    /// strict checking on: dumps filtered by link or table are filtered by the kernel.
    package init() throws(NetlinkError) {
        core = try NetlinkSocket(protocol: NETLINK_ROUTE, name: "route", strictChecking: true)
    }

    /// Sends a batch and returns each request's outcome, in request order.
    ///
    /// Link, address and route changes are not atomic as a batch: earlier requests stay
    /// applied when a later one fails, so the caller decides what to roll back.
    package func perform(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        try core.perform(requests)
    }

    /// The same for large batches of adds and deletes, with one ack per datagram instead of
    /// one per request (failures are still reported per request).
    package func performAckingLast(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        try core.performAckingLast(requests)
    }

    /// Sends one request and throws the kernel's refusal, if any.
    package func perform(_ request: NetlinkRequest) throws(NetlinkError) {
        try core.perform(request)
    }

    func query(_ request: NetlinkRequest) throws(NetlinkError) -> [ReceivedMessage] {
        try core.query(request)
    }

    func dump(_ request: NetlinkRequest) throws(NetlinkError) -> [ReceivedMessage] {
        try core.dump(request)
    }
}
