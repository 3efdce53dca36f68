import Netlink
import FlannelCNI
import ArgumentParser
import CNI
import Dataplane
import NetTypes
import SubnetRegistry
#if canImport(Glibc)
import Glibc
#endif

/// `swift-flanneld`: flanneld's command line (same names, meanings and defaults, also from
/// `FLANNELD_*`), plus our own options. Runs the node daemon.
package struct FlanneldCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "swift-flanneld",
        abstract: "Node daemon of swift-cni: leases this node's subnet and keeps the overlay (vxlan, host-gw, udp) in line with every other node.",
        discussion: """
            A drop-in for flannel's flanneld: the same flags, FLANNELD_* environment variables, \
            etcd keys, lease format and subnet.env. The backend comes from Backend.Type in \
            <etcd-prefix>/config. Every flag can also be given as FLANNELD_<FLAG> (upper case, \
            dashes as underscores), used when the flag is not on the command line. Go-style \
            spellings (-iface=eth0, --ip-masq=false) are accepted.

            SIGTERM stops the daemon and leaves the dataplane in place, so running containers \
            keep their connectivity. Logs go to stderr as logfmt.
            """,
        version: SuiteVersion.string)

    // MARK: flanneld's flags

    @Option(help: ArgumentHelp(
        "Comma-separated etcd endpoints (http:// or https://). Differs from flanneld: without it, the embedded directory registry (--registry-dir) is used instead of http://127.0.0.1:4001,http://127.0.0.1:2379.",
        valueName: "urls"))
    var etcdEndpoints: String?

    @Option(help: ArgumentHelp("etcd key prefix.", valueName: "prefix"))
    var etcdPrefix: String = RegistryDefaults.prefix

    @Option(help: ArgumentHelp("Private key of the client certificate for etcd (PEM).", valueName: "file"))
    var etcdKeyfile: String?

    @Option(help: ArgumentHelp("Client certificate for etcd (PEM).", valueName: "file"))
    var etcdCertfile: String?

    @Option(help: ArgumentHelp("CA bundle that signed etcd's server certificate (PEM); default: the system's trust store.", valueName: "file"))
    var etcdCafile: String?

    @Option(help: ArgumentHelp("etcd user (etcd authentication).", valueName: "name"))
    var etcdUsername: String?

    @Option(help: ArgumentHelp("Password of --etcd-username.", valueName: "password"))
    var etcdPassword: String?

    @Option(help: ArgumentHelp("Interface (name or IPv4 address) for inter-node traffic; repeatable, the first one found wins. Default: the default route's interface.", valueName: "name|addr"))
    var iface: [String] = []

    @Option(help: ArgumentHelp("Regular expression matched against the IPv4 addresses, then the names, of the interfaces when no --iface is found; repeatable.", valueName: "regex"))
    var ifaceRegex: [String] = []

    @Option(help: ArgumentHelp("Use the interface the kernel would use to reach this address.", valueName: "addr"))
    var ifaceCanReach: String?

    @Option(help: ArgumentHelp("IPv4 address other nodes reach this node at. Default: the interface's address.", valueName: "addr"))
    var publicIp: String?

    @Option(help: ArgumentHelp("IPv6 address other nodes reach this node at (dual stack). Default: the interface's global IPv6 address.", valueName: "addr"))
    var publicIpv6: String?

    @Option(help: ArgumentHelp("File the subnet, MTU and masquerade setting are written to.", valueName: "path"))
    var subnetFile: String = "/run/flannel/subnet.env"

    @Option(help: ArgumentHelp("Renew the subnet lease this many minutes before it expires (1-1439).", valueName: "minutes"))
    var subnetLeaseRenewMargin: Int = 60

    @Flag(inversion: .prefixedNo, help: "Masquerade traffic from this node's subnet that leaves the cluster network.")
    var ipMasq: Bool = false

    @Option(help: ArgumentHelp("Address /healthz is served on when --healthz-port is set.", valueName: "addr"))
    var healthzIp: String = "0.0.0.0"

    @Option(help: ArgumentHelp("Port of /healthz (0: off).", valueName: "port"))
    var healthzPort: Int = 0

    @Flag(inversion: .prefixedNo, help: "Accept forwarded traffic from and to the cluster network in the FORWARD chain (for hosts whose FORWARD policy is DROP).")
    var iptablesForwardRules: Bool = true

    @Option(help: ArgumentHelp("Seconds between checks that the FORWARD rules are still in place.", valueName: "seconds"))
    var iptablesResync: Int = 5

    // MARK: our own options

    @Option(help: ArgumentHelp("Directory registry (flannel's keys as files): the embedded default when no --etcd-endpoints is given.", valueName: "dir"))
    var registryDir: String?

    @Option(help: ArgumentHelp("Where the VXLAN MAC and the last lease are kept, so a restarted node keeps both.", valueName: "dir"))
    var stateDir: String = AgentDefaults.stateDir

    @Option(help: ArgumentHelp("Address of /healthz, /readyz and Prometheus /metrics ('off': none).", valueName: "addr:port"))
    var listen: String = AgentDefaults.listen

    @Option(help: ArgumentHelp("Lease TTL in seconds.", valueName: "seconds"))
    var leaseTtl: Int = RegistryDefaults.leaseTTL

    @Option(help: ArgumentHelp("Seconds between full passes that repair the dataplane against the registry.", valueName: "seconds"))
    var resyncInterval: Double = 10

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("udp backend: 'automatic' (TUN and UDP offloads, batches, when the kernel has them) or 'plain' (flannel's one packet per system call).", valueName: "path"))
    var udpPath: String = "automatic"

    package init() {}

    /// Every flag by its long name, for `FLANNELD_*` (help and version are not settings).
    static let flagNames = [
        "etcd-endpoints", "etcd-prefix", "etcd-keyfile", "etcd-certfile", "etcd-cafile", "etcd-username",
        "etcd-password", "iface", "iface-regex", "iface-can-reach", "public-ip", "public-ipv6", "subnet-file",
        "subnet-lease-renew-margin", "ip-masq", "healthz-ip", "healthz-port", "iptables-forward-rules",
        "iptables-resync", "registry-dir", "state-dir", "listen", "lease-ttl", "resync-interval", "log-level",
        "udp-path",
    ]

    /// Go-style spellings translated and `FLANNELD_*` added, then ArgumentParser; a usage
    /// error exits 2 (as flanneld and most daemons), help and version exit 0.
    package static func start() async -> Never {
        let given = GoFlagSyntax.normalize(Array(CommandLine.arguments.dropFirst()))
        let arguments = given + GoFlagSyntax.fromEnvironment(ProcessEnvironment.variables, flags: flagNames, given: given)
        let command: FlanneldCommand
        do {
            try FlanneldUnsupportedFlags.refuse(arguments)
            command = try parse(arguments)
        } catch let error as UsageError {
            exitWithUsage(error)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            StandardIO.write(fullMessage(for: error) + "\n" + (code == .validationFailure ? usageString() + "\n" : ""), fd: 2)
            Glibc.exit(2)
        }
        let options: AgentOptions
        do {
            options = try command.options()
        } catch {
            exitWithUsage(error)
        }
        Glibc.exit(await Agent(options: options).run())
    }

    private static func exitWithUsage(_ error: UsageError) -> Never {
        StandardIO.write("swift-flanneld: \(error)\n\(usageString())\n", fd: 2)
        Glibc.exit(2)
    }

    /// The typed, checked options.
    func options() throws(UsageError) -> AgentOptions {
        var o = AgentOptions()
        switch (etcdEndpoints, registryDir) {
        case (let eps?, nil):
            let urls = eps.split(separator: ",").map { String($0).trimmed() }.filter { !$0.isEmpty }
            guard !urls.isEmpty else { throw UsageError("--etcd-endpoints needs at least one URL") }
            o.registry = .etcd(EtcdClientSettings(endpoints: urls, caFile: etcdCafile, certFile: etcdCertfile,
                                                  keyFile: etcdKeyfile, username: etcdUsername, password: etcdPassword))
        case (nil, let dir):
            o.registry = .directory(dir ?? AgentDefaults.registryDir)
        case (_?, _?):
            throw UsageError("--etcd-endpoints and --registry-dir name two registries; give one")
        }
        if (etcdCertfile == nil) != (etcdKeyfile == nil) {
            throw UsageError("--etcd-certfile and --etcd-keyfile go together (the client certificate and its key)")
        }
        if etcdUsername != nil && etcdPassword == nil { throw UsageError("--etcd-username needs --etcd-password") }
        o.etcdPrefix = etcdPrefix
        for pattern in ifaceRegex {
            guard (try? Regex(pattern)) != nil else { throw UsageError("--iface-regex \(pattern): not a regular expression") }
        }
        var canReach: IPAddress?
        if let text = ifaceCanReach {
            guard let ip = IPAddress(text) else { throw UsageError("--iface-can-reach \(text): not an IP address") }
            canReach = ip
        }
        o.underlay = UnderlayChoice(interfaces: iface, patterns: ifaceRegex, canReach: canReach)
        if let text = publicIp {
            guard let ip = IPAddress(text), ip.family == .v4 else { throw UsageError("--public-ip \(text): not an IPv4 address") }
            o.publicIP = ip
        }
        if let text = publicIpv6 {
            guard let ip = IPAddress(text), ip.family == .v6 else { throw UsageError("--public-ipv6 \(text): not an IPv6 address") }
            o.publicIPv6 = ip
        }
        o.subnetFile = subnetFile
        guard (1...1439).contains(subnetLeaseRenewMargin) else {
            throw UsageError("--subnet-lease-renew-margin \(subnetLeaseRenewMargin): must be 1 to 1439 minutes")
        }
        o.renewMargin = subnetLeaseRenewMargin * 60
        o.ipMasq = ipMasq
        guard (0...65535).contains(healthzPort) else { throw UsageError("--healthz-port \(healthzPort): not a port") }
        if healthzPort != 0 {
            guard IPAddress(healthzIp) != nil else { throw UsageError("--healthz-ip \(healthzIp): not an IP address") }
            o.healthz = healthzIp.contains(":") ? "[\(healthzIp)]:\(healthzPort)" : "\(healthzIp):\(healthzPort)"
        }
        o.forwardRules = iptablesForwardRules
        guard iptablesResync > 0 else { throw UsageError("--iptables-resync \(iptablesResync): must be positive") }
        o.forwardRulesResync = Double(iptablesResync)
        o.stateDir = stateDir
        o.listen = listen == "off" ? nil : listen
        // Bounded above too: the expiry (now + TTL) becomes a file time and an etcd lease TTL.
        guard (2...AgentDefaults.maxLeaseTTL).contains(leaseTtl) else {
            throw UsageError("--lease-ttl \(leaseTtl): 2 to \(AgentDefaults.maxLeaseTTL) seconds (10 years)")
        }
        o.leaseTTL = leaseTtl
        guard resyncInterval > 0, resyncInterval <= AgentDefaults.maxResyncInterval else {
            throw UsageError("--resync-interval \(resyncInterval): more than 0 and at most \(Int(AgentDefaults.maxResyncInterval)) seconds")
        }
        o.resyncInterval = resyncInterval
        guard let level = AgentLogLevel(rawValue: logLevel.lowercased() == "warn" ? "warning" : logLevel.lowercased()) else {
            throw UsageError("--log-level \(logLevel): one of \(AgentLogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        o.logLevel = level
        switch udpPath {
        case "automatic": o.udpPath = .automatic
        case "plain": o.udpPath = .plain
        default: throw UsageError("--udp-path \(udpPath): automatic or plain")
        }
        return o
    }
}

/// A flag value that is well-formed but makes no sense: exit 2 with the usage, as a parse error.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
