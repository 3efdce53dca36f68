import NIOCore
import NIOHTTP1

/// One connection to the monitoring endpoints: answers the first request, then closes (as
/// the server before it did; Prometheus and kubelet probes reconnect per scrape). A client
/// that sends nothing for `idleTimeout` (IdleStateHandler's read event) or has not finished
/// its request head within `requestTimeout` (a byte at a time keeps a read timeout quiet)
/// is disconnected, so neither holds a connection slot for long. Nothing here blocks:
/// other connections are served in between on the same event loop.
final class HealthRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let requestTimeout: TimeAmount
    let respond: @Sendable (_ path: String) -> HealthResponse
    private var deadline: Scheduled<Void>?
    private var answered = false

    init(requestTimeout: TimeAmount, respond: @escaping @Sendable (_ path: String) -> HealthResponse) {
        self.requestTimeout = requestTimeout
        self.respond = respond
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = Self.unwrapInboundIn(data), !answered else { return }
        answered = true
        deadline?.cancel()
        let response: HealthResponse
        switch head.method {
        case .GET, .HEAD:
            response = respond(String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "/"))
        default:
            response = HealthResponse(status: .methodNotAllowed, text: "only GET\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            let body = context.channel.allocator.buffer(bytes: response.body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Closes a connection that sends more than `limit` bytes: a request for a monitoring
/// endpoint is a few hundred bytes, so anything much larger is not one, and the HTTP
/// decoder's own head limit (80 KB) is more than such a client deserves.
final class RequestSizeLimitHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let limit: Int
    private var received = 0

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Self.unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
