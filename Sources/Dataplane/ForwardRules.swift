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
///   readable. For the IPv6 network the same rules in ip6tables' filter FORWARD, as
///   flanneld does for dual stack.
/// - every native nftables base chain on the forward hook (ip or inet; for IPv6 ip6 or inet)
///   whose policy is drop, e.g. Debian's `inet filter forward`, through `nft`, tagged
///   `comment "swift-cni forward"`.
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
        sync(clusterNetworks: [clusterNetwork], enabled: enabled)
    }

    /// The same for a node with a network per family (flanneld's dual stack: the IPv4 pair
    /// through iptables, the IPv6 pair through ip6tables, both with comment "flanneld
    /// forward"; in native chains `ip`/`inet` and `ip6`/`inet`). Each family given is
    /// synced on its own; with `removeOtherFamilies`, ours of a family not given are removed
    /// too (a node that went back to IPv4-only). An empty list with `enabled` is skipped.
    package func sync(clusterNetworks: [IPPrefix], enabled: Bool, removeOtherFamilies: Bool = false) -> ForwardRulesOutcome {
        var outcome = ForwardRulesOutcome()
        var passes: [(family: IPAddress.Family, network: String?)] = []
        for family in [IPAddress.Family.v4, .v6] {
            if let network = clusterNetworks.first(where: { $0.family == family }) {
                passes.append((family, network.network.description))
            } else if removeOtherFamilies {
                passes.append((family, nil))
            }
        }
        if clusterNetworks.isEmpty && enabled { outcome.skipped = "no cluster network to forward" }
        guard !passes.isEmpty else { return outcome }
        var chains: NftChainsListing = .notYet
        for pass in passes {
            let wanted = enabled && pass.network != nil
            let snapshot = read(family: pass.family, chains: &chains, enabled: wanted, errors: &outcome.errors)
            let actions = ForwardRulesPlan.actions(network: pass.network ?? "", enabled: wanted, snapshot: snapshot)
            outcome.planned += actions
            apply(actions, outcome: &outcome)
        }
        return outcome
    }

    /// `nft list chains`, run once per sync, after the first family's iptables listing (the
    /// order an IPv4-only node always had).
    enum NftChainsListing {
        case notYet
        /// nil: the listing failed (reported once).
        case listed([NftForwardChain]?)
    }

    /// What is there now for `family`. Each listing that fails is an error and leaves its
    /// part out.
    func read(family: IPAddress.Family, chains: inout NftChainsListing, enabled: Bool,
              errors: inout [ForwardRulesError]) -> ForwardRulesSnapshot {
        var snapshot = ForwardRulesSnapshot(iptables: .absent, forwardChains: [], nativeRules: [:], family: family)
        let iptables = tools.iptablesCommands(family)
        if let save = iptables.save, iptables.command != nil {
            do {
                snapshot.iptables = .listed(ForwardRulesIptablesListing(parsing: try ForwardRulesTools.run(save + ["-t", "filter"])))
            } catch {
                snapshot.iptables = .unreadable
                errors.append(error)
            }
        }
        guard let nft = tools.nft else { return snapshot }
        if case .notYet = chains {
            do {
                chains = .listed(NftForwardChain.parsing(chains: try ForwardRulesTools.run(nft + ["list", "chains"])))
            } catch {
                errors.append(error)
                chains = .listed(nil)
            }
        }
        guard case .listed(let listed?) = chains else { return snapshot }
        snapshot.forwardChains = listed
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
                guard let iptables = tools.iptablesCommands(rule.isIPv6 ? .v6 : .v4).command else { continue }
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
