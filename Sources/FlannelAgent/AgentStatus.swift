import Logging
import NetTypes
import Synchronization

/// What the agent shows of its state: readiness (/readyz), the log and the metrics. Every
/// state change is published in that one order: readiness first, then the log line, then
/// the metric. Whoever polls a metric (an integration suite, an alert) and then reads
/// /readyz or the log finds the change there too; publishing the metric first made
/// integration/lease-loss.sh see `swiftcni_lease_conflict 1` while /readyz still said 200.
///
/// Written by the loop thread, read by the HTTP event loop: the readiness sits behind a
/// lock, the metrics are thread-safe, the logger is a value.
final class AgentStatus: Sendable {
    let metrics: AgentMetrics
    let logger: Logger
    private let state = Mutex(Readiness())

    struct Readiness {
        var ready = false
        var reason = "starting"
        var unreachable: [String] = []
        /// Reasons logged since the node was last ready: a problem whose text alternates
        /// between a few variants (a TLS listener closing or resetting a plain-HTTP client)
        /// is logged once per variant, not once per retry.
        var logged: Set<String> = []
        /// Nil until the loop starts.
        var heartbeat: LoopHeartbeat?
        /// The stall of the current heartbeat was logged (once per stall).
        var stallLogged = false
    }

    init(metrics: AgentMetrics = AgentMetrics(), logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    /// The readiness as the loop last published it.
    var readiness: Readiness { state.withLock { $0 } }

    /// Ready (lease held, dataplane programmed, registry answering); logged when it was not.
    func markReady(subnet: IPPrefix) {
        let changed = state.withLock { r -> Bool in
            defer { r.ready = true; r.reason = "ready"; r.logged = [] }
            return !r.ready
        }
        if changed { logger.info("ready", metadata: ["subnet": "\(subnet.description)"]) }
        metrics.recordRegistryUp(true)
        metrics.recordReady(true)
    }

    /// Not ready for `reason`, each distinct reason logged once. `kind`: the error counted in
    /// `swiftcni_errors_total` ("registry" also sets `swiftcni_registry_up 0`), nil when the
    /// caller counts it. `registryUp`: the registry answered (a conflict, a config problem).
    func notReady(_ reason: String, kind errorKind: String?, registryUp: Bool? = nil) {
        let changed = state.withLock { r -> Bool in
            defer { r.ready = false; r.reason = reason }
            if r.logged.count >= 16 { r.logged = [] }  // bounded; a reason seen again is then logged again
            return r.logged.insert(reason).inserted
        }
        if changed { logger.error("not ready", metadata: ["reason": "\(reason)"]) }
        metrics.recordReady(false)
        if let registryUp { metrics.recordRegistryUp(registryUp) }
        if errorKind == "registry" { metrics.recordRegistryUp(false) }
        if let errorKind { metrics.recordError(errorKind) }
    }

    /// Still not ready, now for a reason the caller logs in its own words (a transition with
    /// a log line of its own), so it is not logged again as "not ready". `swiftcni_ready`
    /// stays 0 as it was.
    func notReady(quietly reason: String) {
        state.withLock { r in
            r.ready = false
            r.reason = reason
            r.logged.insert(reason)
        }
    }

    /// The loop completed a pass (or starts, in `phase`); `limit`: LoopHeartbeat.limit.
    func beat(_ phase: LoopHeartbeat.Phase, limit: Double, now: Double = monotonicSeconds()) {
        state.withLock { r in
            r.heartbeat = LoopHeartbeat(phase: phase, lastPass: now, limit: limit)
            r.stallLogged = false
        }
    }

    /// The stall reason when the loop has not completed a pass for longer than its limit,
    /// judged now (the stuck loop itself publishes nothing). The first time a stall is seen
    /// it is logged and `swiftcni_ready` goes to 0, after readiness (this answer) has it.
    func stall(now: Double = monotonicSeconds()) -> String? {
        let (reason, first) = state.withLock { r -> (String?, Bool) in
            guard let reason = r.heartbeat?.stall(now: now) else { return (nil, false) }
            defer { r.stallLogged = true }
            return (reason, !r.stallLogged)
        }
        if let reason, first {
            logger.error("not ready", metadata: ["reason": "\(reason)"])
            metrics.recordReady(false)
        }
        return reason
    }

    /// The peers not programmed, for /readyz (the caller logs and records them afterwards).
    func setUnreachable(_ unreachable: [String]) {
        state.withLock { $0.unreachable = unreachable }
    }
}
