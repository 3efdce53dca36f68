import NetTypes

/// The periodic side of flanneld's `--iptables-resync`: checks the forward rules every
/// `interval` seconds and puts back what was removed (Docker restarting, an operator's
/// `iptables -F`, a firewall reload).
///
/// A check that finds everything in place runs `iptables-save -t filter` and `nft list
/// chains` and changes nothing. With the rules disabled, the one removal at start is
/// retried only until it succeeds: a node that opted out is otherwise left alone.
///
/// Dual stack: one network per family, each family's rules kept on their own. Ours of a
/// family with no network (the node went back to IPv4-only) are removed at the first sync,
/// and at later ones only while a sync fails, so an IPv4-only node's periodic check stays
/// what it was.
package struct ForwardRulesKeeper: Sendable {
    package let clusterNetworks: [IPPrefix]
    package let enabled: Bool
    package let interval: Double
    let rules: ForwardRules
    var lastCheck: Double?
    var lastFailed = false

    /// The first network (the IPv4 one on a dual-stack node built with `clusterNetworks`).
    package var clusterNetwork: IPPrefix? { clusterNetworks.first }

    /// `clusterNetworks`: at most one per family (a second one of a family is ignored).
    package init(clusterNetworks: [IPPrefix], enabled: Bool, interval: Double, rules: ForwardRules = ForwardRules()) {
        self.clusterNetworks = clusterNetworks
        self.enabled = enabled
        self.interval = interval
        self.rules = rules
    }

    package init(clusterNetwork: IPPrefix, enabled: Bool, interval: Double, rules: ForwardRules = ForwardRules()) {
        self.init(clusterNetworks: [clusterNetwork], enabled: enabled, interval: interval, rules: rules)
    }

    /// Syncs now (at start-up) and remembers when.
    package mutating func sync(now: Double) -> ForwardRulesOutcome {
        let sweep = lastCheck == nil || lastFailed
        let outcome = rules.sync(clusterNetworks: clusterNetworks, enabled: enabled, removeOtherFamilies: sweep)
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
