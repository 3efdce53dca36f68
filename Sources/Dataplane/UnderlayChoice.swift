import CNI
import SubnetRegistry
import NetTypes

/// How the operator picks the underlay, flanneld's way: `--iface` names or addresses tried in
/// order (the first that exists wins), else `--iface-regex` patterns matched against the
/// IPv4 addresses and then the names of the interfaces, else the interface the kernel would
/// use to reach `--iface-can-reach`, else the interface of the default route.
package struct UnderlayChoice: Sendable, Equatable {
    package var interfaces: [String]
    package var patterns: [String]
    package var canReach: IPAddress?

    package init(interfaces: [String] = [], patterns: [String] = [], canReach: IPAddress? = nil) {
        self.interfaces = interfaces
        self.patterns = patterns
        self.canReach = canReach
    }
}
