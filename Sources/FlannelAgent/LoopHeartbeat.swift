import SubnetRegistry

/// The main loop's heartbeat: when it last completed a pass, in which phase, and how long a
/// pass may legitimately take. A loop stuck in a system call (a FIFO planted in the
/// registry blocked `open()` forever) publishes nothing more, so /readyz judges the
/// heartbeat itself when asked, and a stuck loop is never reported ready.
struct LoopHeartbeat: Equatable, Sendable {
    enum Phase: String, Sendable {
        case setUp = "set-up"
        case steadyState = "steady state"
    }

    var phase: Phase
    /// Monotonic seconds of the last completed pass (or of the loop's start).
    var lastPass: Double
    /// Seconds without a completed pass after which the loop counts as stuck.
    var limit: Double

    /// The /readyz reason when the loop has gone longer than `limit` without completing a
    /// pass; nil while it keeps up.
    func stall(now: Double) -> String? {
        let age = now - lastPass
        guard age > limit else { return nil }
        return "main loop has not completed a pass for \(Self.whole(age)) s (limit \(Self.whole(limit)) s)"
            + (phase == .setUp ? "; stuck in set-up" : "")
    }

    /// The longest backoff between retries (`Backoff`) and the longest registry wait of a
    /// pass (`waitForChanges` is given at most 1 s).
    static let longestBackoff = Backoff.maxDelay
    static let longestWait = 1.0

    /// `2 × --resync-interval + 5 s`, or the longest a pass can legitimately take when that
    /// is more: two registry calls at their timeouts (the listing and the renewal), the wait
    /// and the longest backoff, so a registry answering slowly is reported as what it is
    /// (not ready for the registry's reason) rather than as a stuck loop.
    static func limit(resyncInterval: Double, registryCallBound: Double) -> Double {
        max(2 * resyncInterval + 5, 2 * registryCallBound + longestWait + longestBackoff)
    }

    /// The longest one registry call can take before it fails: etcd tries every endpoint's
    /// connect timeout and the request timeout (plus the reply's margin); the directory
    /// registry's calls are file operations.
    static func callBound(of registry: any Registry) -> Double {
        guard let etcd = registry as? EtcdRegistry else { return 0 }
        return Double(etcd.endpoints.count) * etcd.connectTimeout + etcd.requestTimeout + 1
    }

    /// Whole seconds for the reason text (non-finite values never reach a conversion).
    static func whole(_ seconds: Double) -> String {
        Int(exactly: seconds.rounded(.down)).map(String.init) ?? "\(seconds)"
    }
}
