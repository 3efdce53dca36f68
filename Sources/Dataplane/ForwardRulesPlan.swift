/// What the node's forwarding firewall looks like, as far as our rules are concerned.
struct ForwardRulesSnapshot: Equatable, Sendable {
    /// How iptables' filter FORWARD was read.
    enum Iptables: Equatable, Sendable {
        /// No iptables on this node.
        case absent
        /// iptables-save failed: that chain is neither written nor handed to nft this round.
        case unreadable
        case listed(ForwardRulesIptablesListing)
    }

    var iptables: Iptables
    /// Every forward-hook base chain nft listed (empty without nft or when its listing failed).
    var forwardChains: [NftForwardChain]
    /// Our rules in the native chains that were listed rule by rule.
    var nativeRules: [NftForwardChain: [NftOwnedRule]]

    /// Native chains that need our accepts: on the forward hook, seeing IPv4, dropping by
    /// policy. An accept in one base chain does not override a drop in another (every base
    /// chain on the hook must accept a packet), so each dropping chain gets its own pair.
    /// iptables-nft's `ip filter FORWARD` is excluded unless iptables is absent or legacy
    /// (then it is nobody's iptables chain and nft is the only way to write it).
    var nativeTargets: [NftForwardChain] {
        forwardChains.filter { $0.seesIPv4 && $0.policyDrops && !isIptablesOwned($0) }
    }

    /// Native chains whose rules must be read to remove ours: every IPv4 forward-hook chain.
    var nativeCandidates: [NftForwardChain] {
        forwardChains.filter { $0.seesIPv4 && !isIptablesOwned($0) }
    }

    func isIptablesOwned(_ chain: NftForwardChain) -> Bool {
        guard chain.isIptablesFilterForward else { return false }
        switch iptables {
        case .absent: return false
        case .unreadable: return true
        case .listed(let listing): return listing.isNftVariant
        }
    }
}

/// One change to the firewall.
enum ForwardRulesAction: Equatable, Sendable, CustomStringConvertible {
    case iptablesAppend(ForwardRule)
    case iptablesDelete(ForwardRule)
    case nftAdd(NftForwardChain, ForwardRule)
    case nftDelete(NftForwardChain, handle: Int)

    var description: String {
        switch self {
        case .iptablesAppend(let rule): return "added \(rule) to iptables filter FORWARD"
        case .iptablesDelete(let rule): return "removed \(rule) from iptables filter FORWARD"
        case .nftAdd(let chain, let rule): return "added \(rule) to nft \(chain)"
        case .nftDelete(let chain, let handle): return "removed rule handle \(handle) from nft \(chain)"
        }
    }
}

/// The decision, apart from any I/O: given what is there, which rules to add and remove.
///
/// Enabled: exactly one of each of the two rules for `network` in every chain that decides
/// (iptables' filter FORWARD when in use, each dropping native chain); missing ones are
/// appended (after the operator's own rules, as flanneld does, so their explicit drops still
/// win), copies and rules for another network (the config changed) are removed. Disabled:
/// every rule of ours goes, nothing else is touched. Nothing present and nothing wanted
/// gives no actions, which is what keeps the periodic check cheap.
enum ForwardRulesPlan {
    static func actions(network: String, enabled: Bool, snapshot: ForwardRulesSnapshot) -> [ForwardRulesAction] {
        let wanted = enabled ? ForwardRule.pair(network) : []
        var actions: [ForwardRulesAction] = []
        if case .listed(let listing) = snapshot.iptables {
            let target = listing.isInUse ? wanted : []
            let (add, remove) = difference(present: listing.ours, wanted: target)
            actions += remove.map { .iptablesDelete($0) } + add.map { .iptablesAppend($0) }
        }
        let targets = Set(snapshot.nativeTargets)
        for chain in snapshot.nativeCandidates {
            let owned = snapshot.nativeRules[chain] ?? []
            var keep = Set<ForwardRule>()
            let target = targets.contains(chain) ? wanted : []
            for entry in owned {
                if let rule = entry.rule, target.contains(rule), keep.insert(rule).inserted { continue }
                actions.append(.nftDelete(chain, handle: entry.handle))
            }
            actions += target.filter { !keep.contains($0) }.map { .nftAdd(chain, $0) }
        }
        return actions
    }

    /// Rules to add (wanted, absent) and to remove (unwanted, or a second copy), in order.
    static func difference(present: [ForwardRule], wanted: [ForwardRule]) -> (add: [ForwardRule], remove: [ForwardRule]) {
        var seen = Set<ForwardRule>()
        var remove: [ForwardRule] = []
        for rule in present where !(wanted.contains(rule) && seen.insert(rule).inserted) {
            remove.append(rule)
        }
        return (wanted.filter { !seen.contains($0) }, remove)
    }
}
