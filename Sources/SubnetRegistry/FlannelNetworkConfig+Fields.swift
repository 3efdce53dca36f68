import CNI
import NetTypes

/// Typed, case-insensitive access to one JSON object of the flannel config: Go's
/// encoding/json matches field names without regard to case, and flannel's own docs and
/// tests use both "Network" and "network".
struct FlannelConfigFields {
    let object: [String: JSONValue]
    let what: String

    init(_ object: [String: JSONValue], what: String) {
        self.object = object
        self.what = what
    }

    /// The value under `name` (any case); JSON null counts as absent, as in Go.
    func value(_ name: String) -> JSONValue? {
        let found = object[name] ?? object.first(where: { $0.key.lowercased() == name.lowercased() })?.value
        return found == .null ? nil : found
    }

    func bool(_ name: String) throws(PluginError) -> Bool? {
        guard let v = value(name) else { return nil }
        guard let b = v.boolValue else { throw wrongType(name, "true or false", v) }
        return b
    }

    func int(_ name: String) throws(PluginError) -> Int? {
        guard let v = value(name) else { return nil }
        guard let i = v.intValue, i >= 0 else { throw wrongType(name, "a non-negative integer", v) }
        return i
    }

    func string(_ name: String) throws(PluginError) -> String? {
        guard let v = value(name) else { return nil }
        guard let s = v.stringValue else { throw wrongType(name, "a string", v) }
        return s
    }

    func prefix(_ name: String, family: IPAddress.Family) throws(PluginError) -> IPPrefix? {
        guard let text = try string(name), !text.isEmpty else { return nil }
        guard let p = IPPrefix(text), p.family == family else {
            throw PluginError(.invalidConfig,
                "\(what): \(name) \"\(text)\" is not an \(family == .v4 ? "IPv4" : "IPv6") CIDR")
        }
        return p
    }

    func address(_ name: String, family: IPAddress.Family) throws(PluginError) -> IPAddress? {
        guard let text = try string(name), !text.isEmpty else { return nil }
        guard let a = IPAddress(text), a.family == family else {
            throw PluginError(.invalidConfig,
                "\(what): \(name) \"\(text)\" is not an \(family == .v4 ? "IPv4" : "IPv6") address")
        }
        return a
    }

    private func wrongType(_ name: String, _ expected: String, _ v: JSONValue) -> PluginError {
        PluginError(.invalidConfig, "\(what): \(name) must be \(expected), got \(v.serialized())")
    }
}
