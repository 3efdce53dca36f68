import CNI

/// A forward-rules command that could not run or refused: which command, how it ended and
/// what it wrote to stderr, so the log line alone tells the operator what to look at.
///
/// Never fatal for the node: `ForwardRules.sync` collects these in its outcome and the agent
/// logs and counts them; the next periodic check tries again.
package struct ForwardRulesError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The command line as run (argv joined with spaces).
    package let command: String
    /// "exit status 2", "killed by signal 9", or why it could not be started.
    package let status: String
    package let stderr: String

    init(command: [String], status: String, stderr: String) {
        self.command = command.joined(separator: " ")
        self.status = status
        var text = stderr
        while text.hasSuffix("\n") { text.removeLast() }
        self.stderr = text
    }

    package var description: String {
        "forward rules: `\(command)` failed (\(status))" + (stderr.isEmpty ? "" : ": \(stderr)")
    }
}
