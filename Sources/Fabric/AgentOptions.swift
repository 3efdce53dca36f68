import CNI

/// The agent's command line (see docs/cross-host.md). Parsed by hand: the plugin binary
/// that carries the agent should not pay for an argument-parsing library at every CNI call.
public struct AgentOptions: Sendable, Equatable {
    public enum RegistrySource: Sendable, Equatable {
        case directory(String)
        case etcd([String])
    }

    public var registry: RegistrySource = .directory("/var/lib/swift-cni/registry")
    public var etcdPrefix = "/coreos.com/network"
    public var iface: String?
    public var publicIP: String?
    public var subnetFile = "/run/flannel/subnet.env"
    public var stateDir = "/var/lib/swift-cni/agent"
    public var listen = "127.0.0.1:9102"
    public var leaseTTL = 86_400
    public var resyncInterval = 10.0
    public var ipMasq = true
    public var logLevel = AgentLog.Level.info

    public static let usage = """
        usage: \(ProcessEnvironment.programName) agent [options]
          --registry-dir DIR          directory registry (default /var/lib/swift-cni/registry)
          --etcd-endpoints URL[,URL]  etcd v3 endpoints (http://host:2379) instead of a directory
          --etcd-prefix PREFIX        key prefix (default /coreos.com/network)
          --iface NAME|ADDR           underlay interface (default: the default route's)
          --public-ip ADDR            address to publish (default: the interface's first IPv4)
          --subnet-file PATH          subnet.env to write (default /run/flannel/subnet.env)
          --state-dir DIR             VTEP MAC and last lease (default /var/lib/swift-cni/agent)
          --listen ADDR:PORT          /healthz /readyz /metrics (default 127.0.0.1:9102)
          --lease-ttl SECONDS         lease TTL (default 86400)
          --resync-interval SECONDS   full repair pass period (default 10)
          --ip-masq=true|false        masquerade traffic leaving the cluster network (default true)
          --log-level LEVEL           debug, info, warn, error (default info)
        """

    public init() {}

    /// Parses `--flag value` and `--flag=value` forms.
    public init(arguments: [String]) throws {
        var args = arguments[...]
        while let arg = args.popFirst() {
            var name = arg
            var inline: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            func value() throws -> String {
                if let inline { return inline }
                guard let v = args.popFirst() else { throw AgentError("\(name) needs a value\n\(Self.usage)") }
                return v
            }
            func number(_ text: String) throws -> Double {
                guard let d = Double(text), d > 0 else { throw AgentError("\(name): \(text) is not a positive number") }
                return d
            }
            switch name {
            case "--registry-dir": registry = .directory(try value())
            case "--etcd-endpoints":
                let eps = try value().split(separator: ",").map(String.init)
                guard !eps.isEmpty else { throw AgentError("--etcd-endpoints needs at least one URL") }
                registry = .etcd(eps)
            case "--etcd-prefix": etcdPrefix = try value()
            case "--iface": iface = try value()
            case "--public-ip": publicIP = try value()
            case "--subnet-file": subnetFile = try value()
            case "--state-dir": stateDir = try value()
            case "--listen": listen = try value()
            case "--lease-ttl": leaseTTL = Int(try number(try value()))
            case "--resync-interval": resyncInterval = try number(try value())
            case "--ip-masq":
                let v = inline ?? "true"
                guard let b = ["true": true, "false": false, "1": true, "0": false][v] else {
                    throw AgentError("--ip-masq: expected true or false, got \(v)")
                }
                ipMasq = b
            case "--log-level":
                let v = try value()
                guard let l = AgentLog.Level(name: v) else { throw AgentError("--log-level: unknown level \(v)") }
                logLevel = l
            case "-h", "--help": throw AgentError(Self.usage)
            default: throw AgentError("unknown option \(arg)\n\(Self.usage)")
            }
        }
    }
}
