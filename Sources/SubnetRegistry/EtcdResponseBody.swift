import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One request's response as it arrives on the event loop, handed to a plain thread that
/// waits for it with a deadline: the status, the body bytes not yet taken, the end, or the
/// error. Used for every request: a unary call waits for the end, the watch takes bytes as
/// they come and never ends on its own.
///
/// `requestSent` tells whether the request head left this machine: a failure before that
/// cannot have reached etcd, so another endpoint may be tried.
final class EtcdResponseBody: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    /// 1 while something is waiting to be looked at (bytes, the end, an error): the reader
    /// sleeps on 0. Guards every field below.
    private let news = ConditionLock(value: 0)
    private var sent = false
    private var statusCode: Int?
    private var bytes: [UInt8] = []
    private var ended = false
    private var failure: (any Error)?

    /// What a reader finds when it looks.
    struct Snapshot {
        var requestSent: Bool
        var status: Int?
        var bytes: [UInt8]
        var ended: Bool
        var failure: (any Error)?
    }

    // MARK: event loop side

    func didSendRequestHead(task: HTTPClient.Task<Void>, _ head: HTTPRequestHead) {
        update { $0.sent = true }
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        update { $0.statusCode = Int(head.status.code) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        update { $0.bytes += buffer.readableBytesView }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        update { if !$0.ended { $0.failure = error } }
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        update { $0.ended = true }
    }

    private func update(_ change: (EtcdResponseBody) -> Void) {
        news.lock()
        change(self)
        news.unlock(withValue: 1)
    }

    // MARK: reader side

    /// Waits until there is news or `deadline` (monotonic seconds) passes, then takes the
    /// bytes received so far (they are the caller's now). A deadline in the past only looks.
    func take(deadline: Double) -> Snapshot {
        let left = deadline - monotonicNow()
        if left > 0 {
            if news.lock(whenValue: 1, timeoutSeconds: left) == false { news.lock() }
        } else {
            news.lock()
        }
        let snapshot = Snapshot(requestSent: sent, status: statusCode, bytes: bytes, ended: ended, failure: failure)
        bytes = []
        news.unlock(withValue: ended || failure != nil ? 1 : 0)
        return snapshot
    }

    /// Waits for the whole response until `deadline`.
    func whole(deadline: Double) -> Snapshot {
        var all = take(deadline: deadline)
        while !all.ended && all.failure == nil && monotonicNow() < deadline {
            let more = take(deadline: deadline)
            all.bytes += more.bytes
            (all.requestSent, all.status, all.ended, all.failure) = (more.requestSent, more.status, more.ended, more.failure)
        }
        return all
    }
}
