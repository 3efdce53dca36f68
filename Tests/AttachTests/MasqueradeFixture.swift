import CNI
import Glibc
import TestSupport
@testable import Nftables
@testable import Attach

/// Privileged test scaffolding: throwaway network namespaces named `<prefix>-<pid>-<n>` and
/// nft users (`Masquerade`, `MacSpoofCheck`) whose nft and nf_tables socket work inside one,
/// so tests never touch the machine's own ruleset.
enum MasqueradeFixture {
    static let ip = "/usr/sbin/ip"
    static let nft = ChildProcess.locate("nft", searchPath: "/usr/sbin:/sbin:/usr/bin", fallback: nil)

    /// Root, `ip` and `nft` are all needed; without them the privileged tests are skipped.
    static let privileged = getuid() == 0 && access(ip, X_OK) == 0 && nft != nil

    /// `SWIFTCNI_TEST_NETNS_PREFIX`, in front of every namespace and file these tests make.
    static let namePrefix = testNamespaceName("")

    /// Runs `body` with fresh namespaces (`count` of them), deleted afterwards even when
    /// `body` throws. The prefixes tell whose tests left a namespace behind after a crash.
    static func withNamespaces<R>(_ count: Int = 1, prefix: String = "msq", _ body: ([String]) throws -> R) throws -> R {
        var created: [String] = []
        defer {
            for ns in created {
                // The nftables lock file the plugins' code made for it (NftablesLock).
                if let lock = try? NftablesLock.namespace(path: "/run/netns/\(ns)").path() { unlink(lock) }
                _ = try? ChildProcess.run(ip, arguments: ["netns", "del", ns])
            }
        }
        for _ in 0..<count {
            let ns = testNamespaceName("\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try run(ip, ["netns", "add", ns])
            created.append(ns)
        }
        return try body(created)
    }

    /// For commands that `ip netns exec` looks up (ping, sysctl).
    static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

    static func masquerade(in ns: String) -> Masquerade {
        Masquerade(nft: NftCommand(argv: [ip, "netns", "exec", ns, nft!]), kernel: .namespace(path: "/run/netns/\(ns)"),
                   lock: .namespace(path: "/run/netns/\(ns)"))
    }

    static func macSpoofCheck(in ns: String) -> MacSpoofCheck {
        MacSpoofCheck(nft: NftCommand(argv: [ip, "netns", "exec", ns, nft!]), kernel: .namespace(path: "/run/netns/\(ns)"),
                   lock: .namespace(path: "/run/netns/\(ns)"))
    }

    /// Runs a command that must succeed; returns its stdout.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = try ChildProcess.run(executable, arguments: arguments, environment: environment)
        guard output.succeeded else {
            throw PluginError(.failed, "\(executable) \(arguments.joined(separator: " ")): \(output.termination)",
                              details: String(decoding: output.stderr, as: UTF8.self))
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    /// Runs `arguments` inside `ns` and says whether it succeeded.
    static func succeeds(in ns: String, _ arguments: [String]) throws -> Bool {
        try ChildProcess.run(ip, arguments: ["netns", "exec", ns] + arguments, environment: environment).succeeded
    }

    static func inside(_ ns: String, _ arguments: [String]) throws -> String {
        try run(ip, ["netns", "exec", ns] + arguments)
    }
}
