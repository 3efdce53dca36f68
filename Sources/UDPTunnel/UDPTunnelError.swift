import Glibc

/// Why the tunnel could not be set up: what failed, the kernel's reason, and what to do.
package struct UDPTunnelError: Error, CustomStringConvertible, Equatable, Sendable {
    package let operation: String
    package let errno: Int32?
    package let advice: String

    package init(_ operation: String, errno: Int32? = nil, advice: String = "") {
        self.operation = operation
        self.errno = errno
        self.advice = advice
    }

    package var description: String {
        var text = operation
        if let errno { text += ": " + String(cString: strerror(errno)) }
        if !advice.isEmpty { text += " (" + advice + ")" }
        return text
    }
}
