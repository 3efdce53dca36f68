import CNI
import Glibc
import NetTypes

/// The programs the forward rules are read and written with, each as an argv prefix (nil: not
/// installed on this node, which is a state, not an error): iptables and ip6tables (each
/// with its -save) for the two families' filter FORWARD, nft for native chains of both.
///
/// iptables is run as a command, never replaced by raw nf_tables netlink: a rule written into
/// an iptables-nft table by anything but iptables shows as "incompatible" in `iptables -L`,
/// and the operator must be able to read the chain they set to DROP. Tests prefix
/// `ip netns exec <ns>` so nothing touches the machine's own namespace.
package struct ForwardRulesTools: Sendable {
    package let iptables: [String]?
    package let iptablesSave: [String]?
    package let nft: [String]?
    package let ip6tables: [String]?
    package let ip6tablesSave: [String]?

    package init(iptables: [String]?, iptablesSave: [String]?, nft: [String]?,
                 ip6tables: [String]? = nil, ip6tablesSave: [String]? = nil) {
        self.iptables = iptables
        self.iptablesSave = iptablesSave
        self.nft = nft
        self.ip6tables = ip6tables
        self.ip6tablesSave = ip6tablesSave
    }

    /// The iptables command and its -save for `family` (ip6tables for IPv6).
    func iptablesCommands(_ family: IPAddress.Family) -> (command: [String]?, save: [String]?) {
        family == .v4 ? (iptables, iptablesSave) : (ip6tables, ip6tablesSave)
    }

    /// The programs from PATH, else Debian's /usr/sbin (a daemon's PATH is often minimal).
    package static func located() -> ForwardRulesTools {
        let path = getenv("PATH").map { String(cString: $0) }
        func find(_ name: String) -> [String]? {
            ChildProcess.locate(name, searchPath: path, fallback: "/usr/sbin/\(name)").map { [$0] }
        }
        return ForwardRulesTools(iptables: find("iptables"), iptablesSave: find("iptables-save"), nft: find("nft"),
                                 ip6tables: find("ip6tables"), ip6tablesSave: find("ip6tables-save"))
    }

    /// `-w 5`: like flanneld we wait for the xtables lock instead of failing while another
    /// program holds it, but bounded, so a stuck lock holder cannot stall the daemon's loop.
    static let iptablesWait = ["-w", "5"]

    /// Runs `argv` (an empty environment keeps messages in the C locale) and returns stdout;
    /// a non-zero exit or a failure to start becomes a `ForwardRulesError` naming the command.
    static func run(_ argv: [String], stdin: String = "") throws(ForwardRulesError) -> String {
        let output: ChildProcessOutput
        do {
            output = try ChildProcess.run(argv[0], arguments: Array(argv.dropFirst()), environment: [],
                                          stdin: Array(stdin.utf8))
        } catch {
            throw ForwardRulesError(command: argv, status: "could not start", stderr: "\(error)")
        }
        guard output.succeeded else {
            throw ForwardRulesError(command: argv, status: output.termination.description,
                                    stderr: String(decoding: output.stderr, as: UTF8.self))
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }
}
