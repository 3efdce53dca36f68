/// What one `ForwardRules.sync` did: the changes made (empty on a quiet periodic check) and
/// the commands that failed. The agent logs both and counts the errors.
package struct ForwardRulesOutcome: Sendable {
    /// What the plan asked for.
    var planned: [ForwardRulesAction] = []
    /// What was done (a subset of `planned` when a command failed).
    var done: [ForwardRulesAction] = []
    package internal(set) var errors: [ForwardRulesError] = []
    /// Why nothing was looked at (an unsupported network), for one log line.
    package internal(set) var skipped: String?

    /// One phrase per change, e.g. "added accept from 10.244.0.0/16 to iptables filter FORWARD".
    package var changes: [String] { done.map(\.description) }
}
