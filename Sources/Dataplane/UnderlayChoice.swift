import CNI
import SubnetRegistry
import NetTypes

/// How the operator picks the underlay, flanneld's way: `--iface` names or addresses tried in
/// order (the first that exists wins), else `--iface-regex` patterns matched against the
/// IPv4 addresses and then the names of the interfaces, else the interface the kernel would
/// use to reach `--iface-can-reach`, else the interface of the default route.
public struct UnderlayChoice: Sendable, Equatable {
    public var interfaces: [String]
    public var patterns: [String]
    public var canReach: IPAddress?

    public init(interfaces: [String] = [], patterns: [String] = [], canReach: IPAddress? = nil) {
        self.interfaces = interfaces
        self.patterns = patterns
        self.canReach = canReach
    }
}
