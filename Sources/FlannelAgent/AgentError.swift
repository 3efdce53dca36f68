/// An agent failure with a message meant for the operator's log.
package struct AgentError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
