/// The CNI verbs.
package enum Command: String, Sendable {
    case add = "ADD", del = "DEL", check = "CHECK", version = "VERSION", gc = "GC", status = "STATUS"
}

/// The `CNI_*` variables of one invocation, validated per verb as the spec requires.
package struct Environment: Sendable {
    package let command: Command
    package let containerID: String
    /// Empty when the runtime gave none (allowed for DEL, GC, STATUS).
    package let netns: String
    package let ifname: String
    package let args: CNIArgs
    package let path: [String]
    /// The raw environment, passed on unchanged to delegated plugins.
    package let raw: [String: String]

    package init(_ env: [String: String]) throws(PluginError) {
        raw = env
        guard let c = env["CNI_COMMAND"], !c.isEmpty else {
            throw PluginError(.invalidEnvironment, "required env variable CNI_COMMAND missing")
        }
        guard let cmd = Command(rawValue: c) else {
            throw PluginError(.invalidEnvironment, "unknown CNI_COMMAND \(c)")
        }
        command = cmd
        // An array, not a Set: a Set<Command> costs a protocol-conformance scan at start-up.
        func value(_ name: String, requiredFor verbs: [Command]) throws(PluginError) -> String {
            let v = env[name] ?? ""
            if v.isEmpty && verbs.contains(cmd) {
                throw PluginError(.invalidEnvironment, "required env variable \(name) missing")
            }
            return v
        }
        containerID = try value("CNI_CONTAINERID", requiredFor: [.add, .del, .check])
        netns = try value("CNI_NETNS", requiredFor: [.add, .check])
        ifname = try value("CNI_IFNAME", requiredFor: [.add, .del, .check])
        path = try value("CNI_PATH", requiredFor: [.add, .del, .check, .gc, .status])
            .split(separator: ":").map(String.init)
        args = try CNIArgs(env["CNI_ARGS"] ?? "")
        if !containerID.isEmpty { try Self.validate(containerID: containerID) }
        if !ifname.isEmpty { try Self.validate(ifname: ifname) }
    }

    /// The spec's container ID rule: alphanumerics plus `_ . -`, starting alphanumeric. It also
    /// keeps the ID from escaping a directory when used in file names.
    package static func validate(containerID id: String) throws(PluginError) {
        guard isSpecName(id) else {
            throw PluginError(.invalidEnvironment, "invalid CNI_CONTAINERID \"\(id)\": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        }
    }

    /// The spec's character set for network names and container IDs: an alphanumeric first,
    /// then alphanumerics, `_`, `.` and `-`. Both become file and directory names on the node
    /// (IPAM's data dir, saved configs), so nothing else may get through.
    package static func isSpecName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.enumerated().allSatisfy { i, u in
            let alnum = ("0"..."9").contains(u) || ("a"..."z").contains(u) || ("A"..."Z").contains(u)
            return alnum || (i > 0 && (u == "_" || u == "." || u == "-"))
        }
    }

    /// Linux interface name rules: 1-15 bytes, no '/', ':' or whitespace, not "." or "..".
    package static func validate(ifname: String) throws(PluginError) {
        let bad = ifname.utf8.count > 15 || ifname == "." || ifname == ".."
            || ifname.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }
        if bad {
            throw PluginError(.invalidEnvironment, "invalid CNI_IFNAME \"\(ifname)\": 1-15 bytes, no '/', ':' or spaces")
        }
    }
}

/// `CNI_ARGS`: `K=V;K=V`. Unknown keys are an error unless `IgnoreUnknown` is true, as in
/// the reference plugins.
package struct CNIArgs: Sendable, Equatable {
    package let values: [String: String]

    static let known: Set<String> = [
        "IgnoreUnknown", "IP", "MAC",
        "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    ]

    package init(_ text: String) throws(PluginError) {
        var v: [String: String] = [:]
        for pair in text.split(separator: ";") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].isEmpty else {
                throw PluginError(.invalidEnvironment, "CNI_ARGS: invalid pair \"\(pair)\", expected KEY=VALUE")
            }
            v[String(kv[0])] = String(kv[1])
        }
        values = v
        let ignore = ["1", "true", "True", "TRUE"].contains(v["IgnoreUnknown"] ?? "")
        if !ignore, let unknown = v.keys.sorted().first(where: { !Self.known.contains($0) }) {
            throw PluginError(.invalidEnvironment, "CNI_ARGS: unknown key \"\(unknown)\" (set IgnoreUnknown=1 to allow)")
        }
    }

    package subscript(key: String) -> String? { values[key] }
}
