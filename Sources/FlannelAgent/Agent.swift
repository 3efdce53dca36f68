import CNI
import Dataplane
import FlannelCNI
import SubnetRegistry
import Netlink
import NetTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which dataplane the daemon runs: the registry's `Backend.Type` decides.
public enum BackendKind: String, Sendable, CaseIterable {
    case vxlan
    case hostGW = "host-gw"
}

/// The node agent: leases this node's subnet, programs the dataplane for every other node,
/// writes subnet.env, and keeps all of it in line with the registry until SIGTERM. Runs on
/// plain threads with blocking, bounded waits; nothing here enters another namespace.
public final class Agent: Sendable {
    let options: AgentOptions
    let metrics = AgentMetrics()
    let readiness = Mutex(Readiness())

    struct Readiness {
        var ready = false
        var reason = "starting"
        var unreachable: [String] = []
    }

    public init(options: AgentOptions) {
        self.options = options
    }

    /// Runs until SIGTERM/SIGINT (exit 0) or a start-up error only an operator can fix
    /// (exit 1: bad flags, missing interface, unusable listen address or state dir).
    public func run() async -> Int32 {
        AgentLog.setLevel(options.logLevel)
        AgentSignals.install()
        let context: AgentContext
        do {
            context = try AgentContext(options: options)
            try startHealthServer()
        } catch {
            AgentLog.error("cannot start", ["error": "\(error)"])
            return 1
        }
        AgentLog.info("swift-flanneld starting", ["version": SuiteVersion.string, "registry": context.registry.location,
                                         "underlay": context.underlay.description])
        var backoff = Backoff()
        var node: AgentNode?
        while node == nil {
            if AgentSignals.stopping { return stopped() }
            do {
                node = try AgentNode.setUp(context: context, options: options, metrics: metrics)
            } catch {
                notReady("\(error)", kind: "setup")
                backoff.sleep()
            }
        }
        guard var node else { return stopped() }
        AgentLog.info("node ready", ["backend": node.kind.rawValue, "subnet": node.lease.subnet.description, "subnetFile": options.subnetFile])
        steadyState(&node, context: context)
        return stopped()
    }

    /// Watch + periodic resync + lease renewal, until asked to stop. Lease events take the
    /// incremental path (only the changed peers' entries are written or removed); the full
    /// listing with a kernel read and repair runs at start, every `resyncInterval`, when the
    /// registry cannot say what changed and after an incremental step went wrong.
    ///
    /// Registry trouble never touches the dataplane: what is programmed stays, the node
    /// reports not ready, and the loop retries with backoff until the registry answers again.
    func steadyState(_ node: inout AgentNode, context: AgentContext) {
        var backoff = Backoff()
        var pending = true
        var lastResync = 0.0
        while !AgentSignals.stopping {
            let now = monotonicSeconds()
            do {
                if pending || now - lastResync >= options.resyncInterval {
                    try node.reconcile(registry: context.registry, metrics: metrics)
                    lastResync = monotonicSeconds()
                    pending = false
                }
                readiness.withLock { [unreachable = node.unreachableDescriptions] in $0.unreachable = unreachable }
                try node.renewIfDue(registry: context.registry, ttl: options.leaseTTL, metrics: metrics)
                markReady(node)
                backoff.reset()
                let untilResync = max(0.05, options.resyncInterval - (monotonicSeconds() - lastResync))
                switch try context.registry.waitForChanges(timeout: min(1.0, untilResync)) {
                case .timeout:
                    break
                case .events(let events):
                    if !node.apply(events, metrics: metrics) { pending = true }
                case .relistNeeded(let reason):
                    AgentLog.info("listing the registry again", ["reason": reason])
                    pending = true
                }
            } catch {
                notReady("registry \(context.registry.location): \(error)", kind: "registry")
                pending = true
                backoff.sleep()
            }
        }
    }

    func markReady(_ node: AgentNode) {
        let changed = readiness.withLock { r -> Bool in
            defer { r.ready = true; r.reason = "ready" }
            return !r.ready
        }
        metrics.update { $0.registryUp = true; $0.ready = true }
        if changed { AgentLog.info("ready", ["subnet": node.lease.subnet.description]) }
    }

    func notReady(_ reason: String, kind errorKind: String) {
        let changed = readiness.withLock { r -> Bool in
            defer { r.ready = false; r.reason = reason }
            return r.ready || r.reason != reason
        }
        metrics.update { $0.ready = false; if errorKind == "registry" { $0.registryUp = false } }
        metrics.recordError(errorKind)
        // Log each distinct problem once, not once per retry.
        if changed { AgentLog.error("not ready", ["reason": reason]) }
    }

    func stopped() -> Int32 {
        AgentLog.info("stopping; routes, neighbours, FDB entries and the device stay in place for running containers")
        return 0
    }

    func startHealthServer() throws {
        guard let listen = options.listen else { return }
        let server = try HealthServer(listen: listen) { [self] path in
            switch path {
            case "/healthz":
                return .init(status: 200, contentType: "text/plain", body: "ok\n")
            case "/readyz":
                let r = self.readiness.withLock { $0 }
                var body = r.ready ? "ready\n" : "not ready: \(r.reason)\n"
                for u in r.unreachable { body += "peer unreachable: \(u)\n" }
                return .init(status: r.ready ? 200 : 503, contentType: "text/plain", body: body)
            case "/metrics":
                return .init(status: 200, contentType: "text/plain; version=0.0.4", body: self.metrics.render())
            default:
                return .init(status: 404, contentType: "text/plain", body: "not found\n")
            }
        }
        server.start()
    }
}

/// Exponential backoff between retries: 0.5 s doubling to 5 s, so a returning registry is
/// noticed within seconds without hammering an absent one.
struct Backoff {
    var delay = 0.5
    mutating func sleep() {
        var remaining = delay
        while remaining > 0 && !AgentSignals.stopping {
            usleep(useconds_t(min(remaining, 0.2) * 1_000_000))
            remaining -= 0.2
        }
        delay = min(delay * 2, 5)
    }
    mutating func reset() { delay = 0.5 }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
