import CNI
import Dataplane
import FlannelCNI
import SubnetRegistry
import Netlink
import Logging
import NetTypes
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which dataplane the daemon runs: the registry's `Backend.Type` decides.
package enum BackendKind: String, Sendable, CaseIterable {
    case vxlan
    case hostGW = "host-gw"
    case udp
}

/// The node agent: leases this node's subnet, programs the dataplane for every other node,
/// writes subnet.env, and keeps all of it in line with the registry until SIGTERM. The loop
/// runs on a plain thread with blocking, bounded waits; the monitoring endpoints on a NIO
/// event loop; a ServiceGroup ties both to the signals. Nothing here enters another namespace.
package final class Agent: Sendable {
    let options: AgentOptions
    /// Readiness, log and metrics, published in that order (AgentStatus).
    let status: AgentStatus
    var logger: Logger { status.logger }
    var metrics: AgentMetrics { status.metrics }
    /// Raised by graceful shutdown; the loop polls it.
    let stop = StopFlag()

    package convenience init(options: AgentOptions) {
        self.init(options: options, status: AgentStatus(logger: Logger.agent(level: options.logLevel)))
    }

    init(options: AgentOptions, status: AgentStatus) {
        self.options = options
        self.status = status
    }

    /// Runs until SIGTERM/SIGINT (exit 0) or a start-up error only an operator can fix
    /// (exit 1: bad flags, missing interface, unusable listen address or state dir).
    package func run() async -> Int32 {
        let context: AgentContext
        let server: HealthServer?
        do {
            context = try AgentContext(options: options)
            server = try await startHealthServer()
        } catch {
            logger.error("cannot start", metadata: ["error": "\(error)"])
            return 1
        }
        logger.info("swift-flanneld starting", metadata: ["version": "\(SuiteVersion.string)", "registry": "\(context.registry.location)",
                                                       "underlay": "\(context.underlay.description)"])
        // Graceful shutdown runs in reverse order: the loop stops first, the endpoints
        // answer until it has.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let server { services.append(.init(service: server, serviceName: "health-endpoints")) }
        services.append(.init(service: AgentLoopService(agent: self, context: HandedToLoop(context)),
                              successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "agent-loop"))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped by an error", metadata: ["error": "\(error)"])
            await server?.stop()
            return 1
        }
        return 0
    }

    /// Start-up, then the steady state, until the stop flag is raised; on the loop thread.
    func runLoop(context: AgentContext) {
        var backoff = Backoff()
        var node: AgentNode?
        let limit = heartbeatLimit(registry: context.registry)
        while node == nil {
            status.beat(.setUp, limit: limit)  // a set-up that hangs is reported stuck
            if stop.isRaised { return stopped() }
            do {
                node = try AgentNode.setUp(context: context, options: options, status: status)
            } catch {
                status.notReady("\(error)", kind: "setup")
                backoff.sleep(unless: stop)
            }
        }
        guard var node else { return stopped() }
        logger.info("node ready", metadata: ["backend": "\(node.kind.rawValue)", "subnet": "\(node.lease.subnet.description)",
                                            "subnetFile": "\(options.subnetFile)"])
        // flanneld's signal to a Type=notify unit: subnet.env is in place.
        SystemdNotify.send("READY=1")
        steadyState(&node, registry: context.registry)
        stopped()
    }

    /// Watch + periodic resync + lease renewal, until asked to stop. Lease events take the
    /// incremental path (only the changed peers' entries are written or removed); the full
    /// listing with a kernel read and repair runs at start, every `resyncInterval`, when the
    /// registry cannot say what changed and after an incremental step went wrong.
    ///
    /// Registry trouble never touches the dataplane: what is programmed stays, the node
    /// reports not ready, and the loop retries with backoff until the registry answers again.
    /// Lease renewal never waits behind a failing listing or wait: it is tried whenever it is
    /// due (a registry that cannot list, one bad entry used to make every listing fail, may
    /// still renew), and only its own failure backs off.
    func steadyState(_ node: inout AgentNode, registry: any Registry) {
        var backoff = Backoff()
        var pending = true
        var lastResync = 0.0
        let limit = heartbeatLimit(registry: registry)
        while !stop.isRaised {
            status.beat(.steadyState, limit: limit)
            let now = monotonicSeconds()
            node.keepForwardRules()  // registry trouble must not skip it
            var problems: [String] = []
            if pending || now - lastResync >= options.resyncInterval {
                do {
                    try node.reconcile(registry: registry)
                    try node.followNetworkConfig(registry: registry)
                    lastResync = monotonicSeconds()
                    pending = false
                } catch {
                    problems.append("\(error)")
                }
            }
            if node.conflict == nil {  // in a conflict the subnet is not ours to renew
                do {
                    try node.renewIfDue(registry: registry, ttl: options.leaseTTL, margin: options.renewMargin)
                } catch {
                    problems.append("renewing the lease: \(error)")
                }
            }
            guard problems.isEmpty else {
                status.notReady("registry \(registry.location): \(problems.joined(separator: "; "))", kind: "registry")
                backoff.sleep(unless: stop)
                continue
            }
            if let conflict = node.conflictReason {
                // Another node holds our subnet: not ready until it lets go.
                status.notReady(conflict, kind: nil, registryUp: true)
            } else if let problem = node.configProblem {
                status.notReady(problem, kind: nil, registryUp: true)
            } else {
                status.markReady(subnet: node.lease.subnet)
            }
            backoff.reset()
            do {
                let untilResync = max(0.05, options.resyncInterval - (monotonicSeconds() - lastResync))
                switch try registry.waitForChanges(timeout: min(LoopHeartbeat.longestWait, untilResync)) {
                case .timeout:
                    break
                case .events(let events):
                    if try !node.apply(events, registry: registry) { pending = true }
                case .relistNeeded(let reason):
                    logger.info("listing the registry again", metadata: ["reason": "\(reason)"])
                    pending = true
                }
            } catch {
                status.notReady("registry \(registry.location): \(error)", kind: "registry")
                pending = true
                backoff.sleep(unless: stop)
            }
        }
    }

    /// How long the loop may go without completing a pass before /readyz calls it stuck.
    func heartbeatLimit(registry: any Registry) -> Double {
        LoopHeartbeat.limit(resyncInterval: options.resyncInterval, registryCallBound: LoopHeartbeat.callBound(of: registry))
    }

    /// The loop has ended (stop flag raised): say so to the log and to systemd.
    func stopped() {
        SystemdNotify.send("STOPPING=1")
        logger.info("stopping; routes, neighbours, FDB entries and the device stay in place for running containers")
    }

    /// Binds `--listen` and flanneld's `--healthz-ip:--healthz-port` (when set) before
    /// anything is programmed, so an unusable address is a start-up error.
    func startHealthServer() async throws -> HealthServer? {
        var listeners: [HealthServer.Listener] = []
        if let listen = options.listen { listeners.append(.init(flag: "--listen", address: listen)) }
        if let healthz = options.healthz { listeners.append(.init(flag: "--healthz-ip/--healthz-port", address: healthz)) }
        guard !listeners.isEmpty else { return nil }
        return try await HealthServer.start(listeners: listeners) { [self] path in healthResponse(path: path) }
    }
}

/// Exponential backoff between retries: 0.5 s doubling to 5 s, so a returning registry is
/// noticed within seconds without hammering an absent one.
struct Backoff {
    static let maxDelay = 5.0
    var delay = 0.5
    /// Sleeps the current delay in steps of 0.2 s, returning early once `stop` is raised.
    mutating func sleep(unless stop: StopFlag) {
        var remaining = delay
        while remaining > 0 && !stop.isRaised {
            usleep(useconds_t(min(remaining, 0.2) * 1_000_000))
            remaining -= 0.2
        }
        delay = min(delay * 2, Self.maxDelay)
    }
    mutating func reset() { delay = 0.5 }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
