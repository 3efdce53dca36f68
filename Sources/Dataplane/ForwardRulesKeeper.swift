import NetTypes

/// The periodic side of flanneld's `--iptables-resync`: checks the forward rules every
/// `interval` seconds and puts back what was removed (Docker restarting, an operator's
/// `iptables -F`, a firewall reload).
///
/// A check that finds everything in place runs `iptables-save -t filter` and `nft list
/// chains` and changes nothing. With the rules disabled, the one removal at start is
/// retried only until it succeeds: a node that opted out is otherwise left alone.
package struct ForwardRulesKeeper: Sendable {
    package let clusterNetwork: IPPrefix
    package let enabled: Bool
    package let interval: Double
    let rules: ForwardRules
    var lastCheck: Double?
    var lastFailed = false

    package init(clusterNetwork: IPPrefix, enabled: Bool, interval: Double, rules: ForwardRules = ForwardRules()) {
        self.clusterNetwork = clusterNetwork
        self.enabled = enabled
        self.interval = interval
        self.rules = rules
    }

    /// Syncs now (at start-up) and remembers when.
    package mutating func sync(now: Double) -> ForwardRulesOutcome {
        let outcome = rules.sync(clusterNetwork: clusterNetwork, enabled: enabled)
        lastCheck = now
        lastFailed = !outcome.errors.isEmpty
        return outcome
    }

    /// Syncs when due (never synced yet, or `interval` since the last one), else nil.
    package mutating func syncIfDue(now: Double) -> ForwardRulesOutcome? {
        guard let lastCheck else { return sync(now: now) }
        guard enabled || lastFailed, now - lastCheck >= interval else { return nil }
        return sync(now: now)
    }
}
