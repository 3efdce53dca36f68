#if canImport(Glibc)
import Glibc
#endif

/// The entry point every plugin's `main` calls: reads the environment and stdin, checks the
/// spec version, calls the plugin's verb and prints the result or the error in CNI form.
package enum Dispatcher {
    package static func main(_ plugin: some Plugin) -> Never {
        let environment = ProcessEnvironment.variables
        if let (text, fd) = byHand(arguments: CommandLine.arguments, environment: environment) {
            StandardIO.write(text, fd: fd)
            exit(0)
        }
        let stdin: [UInt8]
        do { stdin = try StandardIO.readAll() } catch { fail(error, version: .latest) }
        let (output, status) = run(plugin, environment: environment, stdin: stdin)
        if let output { StandardIO.write(output + "\n", fd: 1) }
        exit(status)
    }

    /// A person, not a runtime: `--version` prints the suite's version on stdout; no
    /// `CNI_COMMAND` at all prints the introduction on stderr, before stdin is read (so a
    /// plugin started in a terminal does not wait for input), and exits 0, as the reference
    /// plugins do. Nil when a runtime called: a runtime passes no arguments and always sets
    /// `CNI_COMMAND` (an unknown one is still an error).
    package static func byHand(arguments: [String], environment: [String: String]) -> (text: String, fd: Int32)? {
        if arguments.count == 2 && arguments[1] == "--version" {
            return (SuiteVersion.string + "\n", 1)
        }
        guard environment["CNI_COMMAND", default: ""].isEmpty else { return nil }
        let name = arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "unknown"
        return (SuiteVersion.introduction(plugin: name), 2)
    }

    /// The whole dispatch as a function of its inputs, so tests can drive it in-process.
    /// Returns what goes to stdout and the exit status.
    package static func run(_ plugin: some Plugin, environment: [String: String], stdin: [UInt8]) -> (String?, Int32) {
        var version = SpecVersion.latest
        do {
            let env = try Environment(environment)
            if env.command == .version {
                return (versionInfo(stdin: stdin).serialized(), 0)
            }
            let config = try NetworkConfig(bytes: stdin)
            version = config.version
            let invocation = Invocation(environment: env, config: config, stdin: stdin)
            switch env.command {
            case .add:
                let result = try plugin.add(invocation)
                return (result.json(version: version).serialized(), 0)
            case .del:
                try plugin.del(invocation)
            case .check:
                guard version.supportsCheck else {
                    throw PluginError(.incompatibleVersion, "config version \(version.rawValue) does not allow CHECK")
                }
                try plugin.check(invocation)
            case .gc:
                guard version.supportsGCAndStatus else {
                    throw PluginError(.incompatibleVersion, "config version \(version.rawValue) does not allow GC")
                }
                try plugin.gc(invocation)
            case .status:
                guard version.supportsGCAndStatus else {
                    throw PluginError(.incompatibleVersion, "config version \(version.rawValue) does not allow STATUS")
                }
                try plugin.status(invocation)
            case .version:
                break
            }
            return (nil, 0)
        } catch {
            return (errorJSON(error, version: version).serialized(), 1)
        }
    }

    /// The one mapping from failure kinds to the spec's error codes.
    package static func code(for error: any Error) -> Int {
        guard let e = error as? PluginError else { return 999 }
        if let c = e.delegatedCode { return c }
        switch e.kind {
        case .incompatibleVersion: return 1
        case .unsupportedField: return 2
        case .unknownContainer: return 3
        case .invalidEnvironment: return 4
        case .io: return 5
        case .decode: return 6
        case .invalidConfig: return 7
        case .tryAgainLater: return 11
        case .unavailable: return 50
        case .failed: return 999
        }
    }

    static func errorJSON(_ error: any Error, version: SpecVersion) -> JSONValue {
        var o: [String: JSONValue] = [
            "cniVersion": .string(version.rawValue),
            "code": .int(code(for: error)),
        ]
        if let e = error as? PluginError {
            o["msg"] = .string(e.message)
            if let d = e.details { o["details"] = .string(d) }
        } else {
            o["msg"] = .string("\(error)")
        }
        return .object(o)
    }

    static func fail(_ error: any Error, version: SpecVersion) -> Never {
        StandardIO.write(errorJSON(error, version: version).serialized() + "\n", fd: 1)
        exit(1)
    }

    static func versionInfo(stdin: [UInt8]) -> JSONValue {
        // VERSION answers in the version it was asked in when we speak it.
        let asked = (try? JSONValue.parse(stdin, what: "VERSION request"))?["cniVersion"]?.stringValue
        let v = asked.flatMap(SpecVersion.init(rawValue:)) ?? .latest
        return .object([
            "cniVersion": .string(v.rawValue),
            "supportedVersions": .array(SpecVersion.allCases.map { .string($0.rawValue) }),
        ])
    }
}
