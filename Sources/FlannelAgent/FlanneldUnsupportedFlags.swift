/// flanneld flags that swift-flanneld does not implement. An operator who swaps the binary in
/// a unit that carries one of them gets a usage error naming the flag, why it is missing and
/// what to use instead, rather than "unknown option".
///
/// klog's `-v N` is the exception: it only sets verbosity, which `--log-level` covers, so it
/// is accepted (see `GoFlagSyntax.verbosity`) and never stops a unit from starting.
enum FlanneldUnsupportedFlags {
    static let kubernetes = "the Kubernetes subnet manager is not implemented: swift-flanneld leases from etcd (--etcd-endpoints) or the directory registry (--registry-dir)"

    /// flanneld's flag → why we refuse it.
    static let reasons: [String: String] = [
        "kube-subnet-mgr": kubernetes,
        "kube-api-url": kubernetes,
        "kube-annotation-prefix": kubernetes,
        "kubeconfig-file": kubernetes,
        "set-node-network-unavailable": kubernetes,
        "use-multi-cluster-cidr": kubernetes,
        "net-config-path": "the network config is read from <etcd-prefix>/config in the registry, as flanneld does without --kube-subnet-mgr",
        "persistent-mac": "a Kubernetes-only option; the VXLAN MAC is always kept across restarts here (--state-dir)",
        "vmodule": "klog's per-file verbosity has no equivalent; use --log-level",
        "log_backtrace_at": "klog's backtraces have no equivalent; use --log-level",
    ]

    /// Throws for the first unsupported flanneld flag among `arguments` (normalized by
    /// `GoFlagSyntax`, so every long flag starts with `--`).
    static func refuse(_ arguments: [String]) throws(UsageError) {
        for arg in arguments {
            if arg == "--" { return }
            guard var name = GoFlagSyntax.longName(arg) else { continue }
            if name.hasPrefix("no-") { name.removeFirst(3) }
            if let reason = reasons[name] {
                throw UsageError("--\(name): flanneld's flag is not supported by swift-flanneld: \(reason)")
            }
        }
    }
}
