import Glibc

/// A failed netlink request, as the kernel reported it.
///
/// Callers branch on `errno` (EEXIST on create, ENODEV/ENOENT/ESRCH on delete) to make
/// their operations idempotent; `operation` and `kernelMessage` are for humans, so the
/// error says both what we tried and why the kernel refused.
package struct NetlinkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What we were doing, e.g. "create veth eth0/veth1a2b3c4d".
    package let operation: String
    /// The positive errno value (EEXIST, ENODEV, ...).
    package let errno: Int32
    /// The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.
    package let kernelMessage: String?

    package init(operation: String, errno: Int32, kernelMessage: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.kernelMessage = kernelMessage.flatMap { $0.isEmpty ? nil : $0 }
    }

    package var description: String {
        let reason = String(cString: strerror(errno))
        guard let kernelMessage else { return "\(operation): \(reason)" }
        return "\(operation): \(reason) (kernel: \(kernelMessage))"
    }

    /// The same failure attributed to a different operation (for the caller's wording).
    func renamed(_ newOperation: String) -> NetlinkError {
        NetlinkError(operation: newOperation, errno: errno, kernelMessage: kernelMessage)
    }
}
