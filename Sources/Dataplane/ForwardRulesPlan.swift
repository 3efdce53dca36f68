import NetTypes

/// What the node's forwarding firewall looks like, as far as our rules of one family are
/// concerned (each family is read, planned and applied on its own).
struct ForwardRulesSnapshot: Equatable, Sendable {
    /// How iptables' (for IPv6: ip6tables') filter FORWARD was read.
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
    /// The family the rules are for: it picks the native chains (ip/inet or ip6/inet) and
    /// which of our rules in an inet chain count.
    var family: IPAddress.Family = .v4

    /// Native chains that need our accepts: on the forward hook, seeing the family, dropping by
    /// policy. An accept in one base chain does not override a drop in another (every base
    /// chain on the hook must accept a packet), so each dropping chain gets its own pair.
    /// iptables-nft's `ip filter FORWARD` (ip6tables-nft's `ip6 filter FORWARD`) is excluded
    /// unless that iptables is absent or legacy (then it is nobody's iptables chain and nft is
    /// the only way to write it).
    var nativeTargets: [NftForwardChain] {
        forwardChains.filter { $0.sees(family) && $0.policyDrops && !isIptablesOwned($0) }
    }

    /// Native chains whose rules must be read to remove ours: every forward-hook chain of the family.
    var nativeCandidates: [NftForwardChain] {
        forwardChains.filter { $0.sees(family) && !isIptablesOwned($0) }
    }

    /// Our rules in `chain` that belong to this family's pass.
    func owned(in chain: NftForwardChain) -> [NftOwnedRule] {
        (nativeRules[chain] ?? []).filter { $0.isIPv6 == (family == .v6) }
    }

    func isIptablesOwned(_ chain: NftForwardChain) -> Bool {
        guard chain.isIptablesFilterForward(family) else { return false }
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
        case .iptablesAppend(let rule): return "added \(rule) to \(Self.tool(rule)) filter FORWARD"
        case .iptablesDelete(let rule): return "removed \(rule) from \(Self.tool(rule)) filter FORWARD"
        case .nftAdd(let chain, let rule): return "added \(rule) to nft \(chain)"
        case .nftDelete(let chain, let handle): return "removed rule handle \(handle) from nft \(chain)"
        }
    }

    static func tool(_ rule: ForwardRule) -> String { rule.isIPv6 ? "ip6tables" : "iptables" }
}

/// The decision, apart from any I/O: given what is there, which rules to add and remove.
///
/// For the snapshot's family (`network` is of it). Enabled: exactly one of each of the two
/// rules for `network` in every chain that decides (iptables' or ip6tables' filter FORWARD
/// when in use, each dropping native chain); missing ones are appended (after the operator's
/// own rules, as flanneld does, so their explicit drops still win), copies and rules for
/// another network (the config changed) are removed. Disabled: every rule of ours goes,
/// nothing else is touched. In an inet chain only the family's own rules are judged (the
/// other family's belong to its pass). Nothing present and nothing wanted gives no actions,
/// which is what keeps the periodic check cheap.
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
            let owned = snapshot.owned(in: chain)
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
