import CNI
import Glibc

/// How the nftables users (masquerade, MAC spoof check) run `nft`: the executable plus any
/// leading arguments.
///
/// Production runs nft directly in the calling process's network namespace; tests prefix
/// `ip netns exec <ns>` so they never touch the machine's own ruleset. Public so the node
/// agent's tables (Fabric's NodeMasquerade) run nft the same way.
package struct NftCommand: Sendable {
    package let argv: [String]

    package init(argv: [String]) {
        self.argv = argv
    }

    /// nft from PATH, else Debian's /usr/sbin/nft (PATH of a plugin is often minimal).
    package static func located() -> NftCommand {
        let path = getenv("PATH").map { String(cString: $0) }
        return NftCommand(argv: [ChildProcess.locate("nft", searchPath: path, fallback: "/usr/sbin/nft") ?? "/usr/sbin/nft"])
    }

    /// Runs nft with `arguments` and `script` on stdin. An empty environment keeps nft's
    /// messages in the C locale, so `isMissingTable` can read them. `lock` (a locked
    /// `NftablesLock` descriptor) goes to nft as its fd 3, so the lock lasts as long as nft.
    func run(_ arguments: [String], script: String = "", what: String, holding lock: Int32? = nil) throws -> ChildProcessOutput {
        let output = try ChildProcess.run(argv[0], arguments: Array(argv.dropFirst()) + arguments,
                                          environment: [], stdin: Array(script.utf8), passing: lock)
        guard output.succeeded else { throw NftFailure(what: what, output: output) }
        return output
    }

    /// Applies `script` as one atomic transaction.
    package func apply(_ script: String, what: String, holding lock: Int32? = nil) throws {
        _ = try run(["-f", "-"], script: script, what: what, holding: lock)
    }

    /// `apply` for callers that have no fallback: a refusal becomes the `PluginError`.
    package func commit(_ script: String, what: String, holding lock: Int32? = nil) throws {
        do {
            try apply(script, what: what, holding: lock)
        } catch let failure as NftFailure {
            throw failure.pluginError
        }
    }

    /// `nft -j list table <family> <name>`'s JSON, or nil when the table does not exist (nothing was
    /// set up in this namespace yet, which DEL, GC and CHECK treat as "no elements").
    package func listTable(family: String, name: String) throws -> [UInt8]? {
        do {
            return try run(["-j", "list", "table", family, name], what: "listing \(family) \(name)").stdout
        } catch let failure as NftFailure {
            if failure.isMissingTable { return nil }
            throw failure.pluginError
        }
    }
}

/// nft ran but refused: carries its stderr so callers can recognise a specific refusal
/// before it becomes a `PluginError`.
struct NftFailure: Error {
    let what: String
    let output: ChildProcessOutput

    var stderr: String { String(decoding: output.stderr, as: UTF8.self) }

    /// `list table` of a table that does not exist.
    var isMissingTable: Bool { stderr.contains("No such file or directory") }

    var pluginError: PluginError {
        var text = stderr
        while text.hasSuffix("\n") { text.removeLast() }
        return PluginError(.failed, "\(what) failed (nft \(output.termination))", details: text.isEmpty ? nil : text)
    }
}
