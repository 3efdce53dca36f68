import Netlink
import FlannelCNI
import CNI
import Dataplane
import NetTypes
import SubnetRegistry

/// Everything the daemon was told, validated and typed (`FlanneldCommand` builds it from
/// the command line and `FLANNELD_*`; tests build it directly).
public struct AgentOptions: Sendable, Equatable {
    public enum RegistrySource: Sendable, Equatable {
        case directory(String)
        case etcd(EtcdClientSettings)
    }

    public var registry: RegistrySource = .directory(AgentDefaults.registryDir)
    public var etcdPrefix = RegistryDefaults.prefix
    public var underlay = UnderlayChoice()
    public var publicIP: IPAddress?
    public var subnetFile = "/run/flannel/subnet.env"
    public var stateDir = AgentDefaults.stateDir
    /// Address of /healthz, /readyz and /metrics; nil: not served.
    public var listen: String? = AgentDefaults.listen
    /// flanneld's `--healthz-ip:--healthz-port`; nil when the port is 0 (flanneld's default).
    public var healthz: String?
    public var leaseTTL = RegistryDefaults.leaseTTL
    /// Renew the lease this many seconds before it expires (flanneld's margin, in minutes on
    /// the command line); capped at half the TTL for short test TTLs.
    public var renewMargin = 3600
    public var resyncInterval = 10.0
    public var ipMasq = false
    public var forwardRules = true
    /// Seconds between checks of the FORWARD accept rules (flanneld's `--iptables-resync`).
    public var forwardRulesResync = 5.0
    public var logLevel = AgentLogLevel.info

    public init() {}
}

/// Our defaults where flanneld has none (or where ours must differ; the help says so).
public enum AgentDefaults {
    public static let registryDir = "/var/lib/swift-cni/registry"
    public static let stateDir = "/var/lib/swift-cni/agent"
    public static let listen = "127.0.0.1:9102"
}

public enum AgentLogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
