import CNI
import SubnetRegistry
import Netlink

/// Why the dataplane could not be set up at all (underlay not found, device refused).
///
/// Per-entry problems during a reconcile are not errors: they land in `ReconcileReport`,
/// so one bad peer never stops the others.
package struct DataplaneError: Error, CustomStringConvertible, Sendable, Equatable {
    package let message: String

    package init(_ message: String) {
        self.message = message
    }

    /// A kernel refusal, prefixed with what we were trying to achieve.
    init(_ what: String, _ error: NetlinkError) {
        self.message = "\(what): \(error)"
    }

    package var description: String { message }
}
