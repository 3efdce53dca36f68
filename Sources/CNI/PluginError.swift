/// The one error type plugins report. Every layer says *what kind* of failure it was and
/// what failed; only the dispatcher turns the kind into a CNI error code
/// (see `Dispatcher.code(for:)`), so the mapping lives in exactly one place.
public struct PluginError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
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

    public let kind: Kind
    public let message: String
    public let details: String?
    /// Set when the error came verbatim from a delegated plugin: its code is passed through.
    public let delegatedCode: Int?

    public init(_ kind: Kind, _ message: String, details: String? = nil) {
        self.kind = kind
        self.message = message
        self.details = details
        self.delegatedCode = nil
    }

    public init(delegatedCode: Int, message: String, details: String?) {
        self.kind = .failed
        self.message = message
        self.details = details
        self.delegatedCode = delegatedCode
    }

    public var description: String { details.map { "\(message): \($0)" } ?? message }
}
