/// One invocation's inputs, parsed once by the dispatcher.
package struct Invocation: Sendable {
    package let environment: Environment
    /// Nil only for VERSION.
    package let config: NetworkConfig!
    package let stdin: [UInt8]

    package init(environment: Environment, config: NetworkConfig?, stdin: [UInt8]) {
        self.environment = environment
        self.config = config
        self.stdin = stdin
    }
}

/// What a plugin executable implements; `Dispatcher.main` does the rest (environment,
/// version checks, output, exit codes). Errors may be anything: `PluginError`s keep their
/// kind, everything else is reported as a generic failure with its description.
package protocol Plugin {
    func add(_ invocation: Invocation) throws -> CNIResult
    func del(_ invocation: Invocation) throws
    func check(_ invocation: Invocation) throws
    func gc(_ invocation: Invocation) throws
    func status(_ invocation: Invocation) throws
}
