/// What went wrong talking to the registry, by kind, with a message that names the endpoint
/// and says what to fix. The agent shows `description` as is (log line, /readyz), so the
/// message carries everything; the kind drives decisions (fail-over, re-authentication)
/// without reading the text.
package struct RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: Sendable, Equatable, CaseIterable {
        /// No connection could be made: refused, no route, connect timeout, unresolvable host.
        case unreachable
        /// TLS could not be set up: certificate verification, a rejected client certificate,
        /// plain HTTP against a TLS server or the reverse.
        case tls
        /// etcd refused the credentials, wants some, or the token ran out.
        case authentication
        /// The authenticated user's role lacks the permission for the keys.
        case permissionDenied
        /// A key the agent needs (the network config) is absent.
        case notFound
        /// Someone else holds or keeps changing the key.
        case conflict
        /// etcd answered with something we cannot use.
        case badReply
        /// Connected and sent, but no answer in time.
        case timeout
        /// The connection broke after the request was sent.
        case io
        /// The settings themselves are wrong: an endpoint URL, an unreadable certificate file.
        case config
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}
