/// The one error type plugins report. Every layer says *what kind* of failure it was and
/// what failed; only the dispatcher turns the kind into a CNI error code
/// (see `Dispatcher.code(for:)`), so the mapping lives in exactly one place.
package struct PluginError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable, Equatable {
        /// The requested CNI version is not one we speak.
        case incompatibleVersion
        /// A config field is present that this plugin does not implement.
        case unsupportedField
        /// The container is not known (CHECK on something we never set up).
        case unknownContainer
        /// A `CNI_*` variable is missing or invalid.
        case invalidEnvironment
        /// Reading or writing a file or pipe failed.
        case io
        /// The JSON on stdin (or from a delegate) could not be decoded.
        case decode
        /// The configuration is well-formed JSON but not a valid network config.
        case invalidConfig
        /// Transient: retry later (for example, the node agent has not written subnet.env yet).
        case tryAgainLater
        /// STATUS: the plugin cannot serve ADD right now (no free addresses, ...).
        case unavailable
        /// Anything else: a kernel refusal, a failed delegate, an internal inconsistency.
        case failed
    }

    package let kind: Kind
    package let message: String
    package let details: String?
    /// Set when the error came verbatim from a delegated plugin: its code is passed through.
    package let delegatedCode: Int?

    package init(_ kind: Kind, _ message: String, details: String? = nil) {
        self.kind = kind
        self.message = message
        self.details = details
        self.delegatedCode = nil
    }

    package init(delegatedCode: Int, message: String, details: String?) {
        self.kind = .failed
        self.message = message
        self.details = details
        self.delegatedCode = delegatedCode
    }

    package var description: String { details.map { "\(message): \($0)" } ?? message }
}
