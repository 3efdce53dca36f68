#if canImport(Glibc)
import Glibc
#endif

/// Runs another plugin (usually IPAM) found on `CNI_PATH`, the way libcni would: same stdin,
/// same environment, `CNI_COMMAND` set to the verb. Its CNI error is passed through with its
/// own code.
package enum Delegate {
    /// Executes plugin `type` for `command` and returns its stdout.
    @discardableResult
    package static func exec(type: String, command: Command, invocation: Invocation) throws -> [UInt8] {
        guard !type.isEmpty, !type.contains("/"), type != ".", type != ".." else {
            throw PluginError(.invalidConfig, "invalid plugin type \"\(type)\"")
        }
        guard let path = locate(type, in: invocation.environment) else {
            throw PluginError(.failed, "failed to find plugin \"\(type)\" in path \(invocation.environment.path)")
        }
        var env = invocation.environment.raw
        env["CNI_COMMAND"] = command.rawValue
        let out = try ChildProcess.run(path, arguments: [path], environment: env.map { "\($0.key)=\($0.value)" },
                                       stdin: invocation.stdin)
        if out.succeeded { return out.stdout }
        // A CNI plugin reports its failure as JSON on stdout; pass its code and text on.
        if let err = try? JSONValue.parse(out.stdout, what: "delegate output"), let code = err["code"]?.intValue {
            throw PluginError(delegatedCode: code, message: "\(type) \(command.rawValue): \(err["msg"]?.stringValue ?? "failed")",
                              details: err["details"]?.stringValue)
        }
        let stderr = String(decoding: out.stderr, as: UTF8.self)
        throw PluginError(.failed, "\(type) \(command.rawValue) failed (\(out.termination))",
                          details: stderr.isEmpty ? nil : stderr)
    }

    /// ADD through a delegate: its result, parsed. A result we cannot use (not JSON, a route
    /// `mtu` of -1) comes from a plugin that did succeed, so what it set up (an address it
    /// allocated) is released with a DEL before the error is thrown: the caller, which never
    /// got a result, does not know there is anything to undo. DEL is idempotent by the spec.
    package static func add(type: String, invocation: Invocation) throws -> CNIResult {
        let out = try exec(type: type, command: .add, invocation: invocation)
        do {
            return try result(of: type, output: out)
        } catch {
            _ = try? exec(type: type, command: .del, invocation: invocation)
            throw error
        }
    }

    /// A delegate's ADD output read as a result (what the fuzz-ipam-result target feeds).
    package static func result(of type: String, output: [UInt8]) throws(PluginError) -> CNIResult {
        try CNIResult(json: JSONValue.parse(output, what: "\(type) result"), what: "\(type) result")
    }

    /// True when `type` resolves on CNI_PATH to the very file of that name installed next to
    /// the running executable (same device and inode), i.e. a plugin of this suite that can
    /// run in-process instead of paying for another process start.
    package static func resolvesToSibling(_ type: String, in environment: Environment) -> Bool {
        guard let found = locate(type, in: environment), let directory = executableDirectory else { return false }
        var a = stat(), b = stat()
        guard stat(found, &a) == 0, stat(directory + "/" + type, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// The directory of the running executable (where the suite's plugins are installed).
    package static var executableDirectory: String? {
        var selfPath = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &selfPath, selfPath.count - 1)
        guard n > 0 else { return nil }
        let exe = String(decoding: selfPath[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return exe.lastIndex(of: "/").map { String(exe[..<$0]) }
    }

    /// The path `type` resolves to on `CNI_PATH`, if any: the first directory holding an
    /// executable of that name. Walks the already split `CNI_PATH` (joining it again for
    /// `ChildProcess.locate` cost a generic `joined` on every ADD and DEL).
    package static func locate(_ type: String, in environment: Environment) -> String? {
        for dir in environment.path where !dir.isEmpty {
            let candidate = dir.hasSuffix("/") ? dir + type : dir + "/" + type
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
