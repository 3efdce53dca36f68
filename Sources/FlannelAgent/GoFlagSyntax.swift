/// flanneld's command line is Go's `flag` package: `-name value`, `-name=value`,
/// `--name=value`, and booleans as `-name`, `-name=true` or `-name=false`. Operators' unit
/// files are written that way, so they are translated here, once, into the double-dash form
/// swift-argument-parser reads (`--no-name` for a false boolean); everything after the
/// translation is ordinary ArgumentParser.
///
/// flanneld also takes each flag from `FLANNELD_<NAME>` (upper case, `-` as `_`) when it is
/// not on the command line and the variable is not empty; those become arguments too.
enum GoFlagSyntax {
    /// Flags that take no value (Go booleans) and may be given `=false`.
    static let booleans: Set<String> = ["ip-masq", "iptables-forward-rules"]

    /// `arguments` without the program name. Single-dash long names become double-dash;
    /// `--bool=false` becomes `--no-bool`; unknown spellings are left for the parser to refuse.
    /// klog's `-v N` (`-v=N`, `--v=N`) becomes `--log-level`: debug above 0, else info; put
    /// first, so that an explicit `--log-level` anywhere wins.
    static func normalize(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var verbosity: String?
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            if arg == "--" {
                out.append(arg)
                out += rest
                break
            }
            if arg == "-v" || arg == "--v" {
                verbosity = rest.popFirst() ?? ""
                continue
            }
            if arg.hasPrefix("-v=") || arg.hasPrefix("--v=") {
                verbosity = String(arg.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[1])
                continue
            }
            var word = arg
            if word.hasPrefix("-"), !word.hasPrefix("--"), word.count > 2 {
                word = "-" + word  // Go: -iface=eth0 is --iface=eth0
            }
            guard word.hasPrefix("--") else {
                out.append(word)
                continue
            }
            let body = word.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if booleans.contains(name), let eq = body.firstIndex(of: "=") {
                switch parseBool(String(body[body.index(after: eq)...])) {
                case true?: out.append("--" + name)
                case false?: out.append("--no-" + name)
                case nil: out.append(word)  // the parser reports it
                }
            } else {
                out.append(word)
            }
        }
        if let verbosity {
            // Not a number: left for the parser to refuse, naming it.
            let level = Int(verbosity).map { $0 > 0 ? "debug" : "info" } ?? verbosity
            out.insert("--log-level=\(level)", at: 0)
        }
        return out
    }

    /// Go's strconv.ParseBool.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    /// The arguments the environment adds: for each of `flags` absent from `arguments` (in
    /// any spelling) whose `FLANNELD_*` variable is set and not empty, `--flag=value`.
    static func fromEnvironment(_ environment: [String: String], flags: [String], given arguments: [String]) -> [String] {
        let present = Set(arguments.compactMap { arg -> String? in
            guard var name = longName(arg) else { return nil }
            if name.hasPrefix("no-"), booleans.contains(String(name.dropFirst(3))) { name.removeFirst(3) }
            return name
        })
        var out: [String] = []
        for flag in flags where !present.contains(flag) {
            guard let value = environment[variable(for: flag)], !value.isEmpty else { continue }
            if booleans.contains(flag) {
                switch parseBool(value) {
                case true?: out.append("--" + flag)
                case false?: out.append("--no-" + flag)
                case nil: out.append("--\(flag)=\(value)")  // refused by the parser, naming the flag
                }
            } else {
                out.append("--\(flag)=\(value)")
            }
        }
        return out
    }

    /// The flag a normalized argument names: `--iface=eth0` → `iface`; nil for a value.
    static func longName(_ argument: String) -> String? {
        guard argument.hasPrefix("--") else { return nil }
        return String(argument.dropFirst(2).split(separator: "=", maxSplits: 1).first ?? "")
    }

    /// `etcd-endpoints` → `FLANNELD_ETCD_ENDPOINTS`.
    static func variable(for flag: String) -> String {
        "FLANNELD_" + flag.uppercased().replacing("-", with: "_")
    }
}
