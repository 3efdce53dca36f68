import Netlink
import FlannelCNI
import CNI
import Dataplane
import NetTypes
import SubnetRegistry
import UDPTunnel

/// Everything the daemon was told, validated and typed (`FlanneldCommand` builds it from
/// the command line and `FLANNELD_*`; tests build it directly).
package struct AgentOptions: Sendable, Equatable {
    package enum RegistrySource: Sendable, Equatable {
        case directory(String)
        case etcd(EtcdClientSettings)
    }

    package var registry: RegistrySource = .directory(AgentDefaults.registryDir)
    package var etcdPrefix = RegistryDefaults.prefix
    package var underlay = UnderlayChoice()
    package var publicIP: IPAddress?
    /// `--public-ipv6`: what a dual-stack node publishes as PublicIPv6.
    package var publicIPv6: IPAddress?
    package var subnetFile = "/run/flannel/subnet.env"
    package var stateDir = AgentDefaults.stateDir
    /// Address of /healthz, /readyz and /metrics; nil: not served.
    package var listen: String? = AgentDefaults.listen
    /// flanneld's `--healthz-ip:--healthz-port`; nil when the port is 0 (flanneld's default).
    package var healthz: String?
    package var leaseTTL = RegistryDefaults.leaseTTL
    /// Renew the lease this many seconds before it expires (flanneld's margin, in minutes on
    /// the command line); capped at half the TTL for short test TTLs.
    package var renewMargin = 3600
    package var resyncInterval = 10.0
    package var ipMasq = false
    package var forwardRules = true
    /// Seconds between checks of the FORWARD accept rules (flanneld's `--iptables-resync`).
    package var forwardRulesResync = 5.0
    package var logLevel = AgentLogLevel.info
    /// `--udp-path`: the udp backend's forwarding path (plain forces flannel's).
    package var udpPath = UDPTunnelPath.automatic

    package init() {}
}

/// Our defaults where flanneld has none (or where ours must differ; the help says so).
package enum AgentDefaults {
    package static let registryDir = "/var/lib/swift-cni/registry"
    package static let stateDir = "/var/lib/swift-cni/agent"
    package static let listen = "127.0.0.1:9102"
    /// Upper bounds of `--lease-ttl` (10 years) and `--resync-interval` (a day): beyond them
    /// the numbers only overflow what they are turned into (file times, timeouts).
    package static let maxLeaseTTL = 10 * 365 * 24 * 3600
    package static let maxResyncInterval = 24 * 3600.0
}

package enum AgentLogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
