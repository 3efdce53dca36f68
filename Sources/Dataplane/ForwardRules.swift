import NetTypes

/// flanneld's `--iptables-forward-rules`: accept forwarded traffic from and to the cluster
/// network in the chains that decide whether the node forwards, for hosts whose firewall
/// drops forwarding by default (Docker sets iptables' FORWARD policy to DROP, and so do
/// many distributions), which would otherwise silently cut every cross-node packet.
///
/// Where the rules go (`ForwardRulesPlan`, `ForwardRulesSnapshot`):
/// - iptables' filter FORWARD, through the `iptables` command, with flanneld's exact rules
///   (`-s|-d <Network> -m comment --comment "flanneld forward" -j ACCEPT`), when that chain
///   is in use (policy DROP or any rule). Never through raw nft: `iptables -L` must stay
///   readable.
/// - every native nftables base chain on the forward hook (ip or inet) whose policy is drop,
///   e.g. Debian's `inet filter forward`, through `nft`, tagged `comment "swift-cni forward"`.
///   An accept in our own table would not help: each base chain on the hook must accept.
/// - nowhere, when nothing drops: no table is created (an empty filter table still costs
///   every forwarded packet).
///
/// Not detected: a chain whose policy is accept but that ends in an explicit drop or reject
/// rule (firewalld's style); its operator has to allow the cluster network themselves.
package struct ForwardRules: Sendable {
    let tools: ForwardRulesTools

    /// `tools` default to the programs on PATH; tests pass `ip netns exec <ns> …`.
    package init(tools: ForwardRulesTools = .located()) {
        self.tools = tools
    }

    /// Brings the rules in line: with `enabled`, exactly our pair for `clusterNetwork` in
    /// every chain that decides; without, none of ours anywhere. Never throws: a failing
    /// part (iptables, or one nft chain) is reported in the outcome and the others go on.
    package func sync(clusterNetwork: IPPrefix, enabled: Bool) -> ForwardRulesOutcome {
        var outcome = ForwardRulesOutcome()
        guard clusterNetwork.family == .v4 else {
            if enabled { outcome.skipped = "IPv6 cluster networks get no forward rules yet" }
            return outcome
        }
        let snapshot = read(enabled: enabled, errors: &outcome.errors)
        outcome.planned = ForwardRulesPlan.actions(network: clusterNetwork.network.description, enabled: enabled,
                                                   snapshot: snapshot)
        apply(outcome.planned, outcome: &outcome)
        return outcome
    }

    /// What is there now. Each listing that fails is an error and leaves its part out.
    func read(enabled: Bool, errors: inout [ForwardRulesError]) -> ForwardRulesSnapshot {
        var snapshot = ForwardRulesSnapshot(iptables: .absent, forwardChains: [], nativeRules: [:])
        if let save = tools.iptablesSave, tools.iptables != nil {
            do {
                snapshot.iptables = .listed(ForwardRulesIptablesListing(parsing: try ForwardRulesTools.run(save + ["-t", "filter"])))
            } catch {
                snapshot.iptables = .unreadable
                errors.append(error)
            }
        }
        guard let nft = tools.nft else { return snapshot }
        do {
            snapshot.forwardChains = NftForwardChain.parsing(chains: try ForwardRulesTools.run(nft + ["list", "chains"]))
        } catch {
            errors.append(error)
            return snapshot
        }
        // Enabled: only the chains that get rules are read (usually none). Disabled: every
        // chain ours could be in.
        for chain in enabled ? snapshot.nativeTargets : snapshot.nativeCandidates {
            do {
                let text = try ForwardRulesTools.run(nft + ["-a", "list", "chain"] + chain.listArguments)
                snapshot.nativeRules[chain] = NftOwnedRule.parsing(chain: text)
            } catch {
                errors.append(error)
            }
        }
        return snapshot
    }

    /// iptables changes one command each (deletes first); nft changes as one transaction.
    func apply(_ actions: [ForwardRulesAction], outcome: inout ForwardRulesOutcome) {
        var script = ""
        var scripted: [ForwardRulesAction] = []
        for action in actions {
            switch action {
            case .iptablesAppend(let rule), .iptablesDelete(let rule):
                guard let iptables = tools.iptables else { continue }
                let verb = if case .iptablesAppend = action { "-A" } else { "-D" }
                do {
                    _ = try ForwardRulesTools.run(iptables + ForwardRulesTools.iptablesWait + [verb, "FORWARD"] + rule.iptablesSpec)
                    outcome.done.append(action)
                } catch {
                    outcome.errors.append(error)
                }
            case .nftAdd(let chain, let rule):
                script += "add rule \(chain) \(rule.nftStatement) comment \"\(ForwardRule.nftComment)\"\n"
                scripted.append(action)
            case .nftDelete(let chain, let handle):
                script += "delete rule \(chain) handle \(handle)\n"
                scripted.append(action)
            }
        }
        guard let nft = tools.nft, !script.isEmpty else { return }
        do {
            _ = try ForwardRulesTools.run(nft + ["-f", "-"], stdin: script)
            outcome.done += scripted
        } catch {
            outcome.errors.append(error)
        }
    }
}
