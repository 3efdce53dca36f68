import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// After etcd's certificate failed verification, fetches it once more without verifying,
/// so the message can say "expired on …" instead of listing every possible cause. Nothing
/// is sent over this connection: it is closed right after the handshake.
enum EtcdServerCertificateProbe {
    /// etcd's leaf certificate, nil when the handshake does not get that far in `timeout`.
    static func fetch(_ endpoint: EtcdEndpoint, tls: TLSConfiguration, group: any EventLoopGroup,
                      timeout: Double) -> NIOSSLCertificate? {
        var unverified = tls
        unverified.certificateVerification = .none
        guard let context = try? NIOSSLContext(configuration: unverified) else { return nil }
        let promise = group.next().makePromise(of: NIOSSLCertificate?.self)
        let connected = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(PeerCertificateCatcher(promise: promise))
                }
            }
            .connect(host: endpoint.host, port: Int(endpoint.port))
        connected.whenFailure { _ in promise.succeed(nil) }
        let result = NIOLockedValueBox<NIOSSLCertificate?>(nil)
        let done = ConditionLock(value: 0)
        promise.futureResult.whenComplete { outcome in
            done.lock()
            if case .success(let certificate) = outcome { result.withLockedValue { $0 = certificate } }
            done.unlock(withValue: 1)
        }
        if done.lock(whenValue: 1, timeoutSeconds: timeout * 2) { done.unlock() }
        connected.whenSuccess { $0.close(promise: nil) }
        return result.withLockedValue { $0 }
    }

    /// Completes the promise once: with the peer's certificate when the handshake is done,
    /// with nil when the connection fails or closes first.
    private final class PeerCertificateCatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        private let promise: EventLoopPromise<NIOSSLCertificate?>
        private var completed = false

        init(promise: EventLoopPromise<NIOSSLCertificate?>) {
            self.promise = promise
        }

        private func complete(_ certificate: NIOSSLCertificate?) {
            guard !completed else { return }
            completed = true
            promise.succeed(certificate)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
                let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
                complete(handler?.peerCertificate)
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            complete(nil)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            complete(nil)
            context.fireChannelInactive()
        }
    }
}
