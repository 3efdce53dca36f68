import CNI
import NetTypes

/// Typed, case-insensitive access to one JSON object of the flannel config, through the
/// suite's one field reader (`ConfigFields`): Go's encoding/json matches field names without
/// regard to case, and flannel's own docs and tests use both "Network" and "network".
struct FlannelConfigFields {
    let reader: ConfigFields
    var what: String { reader.what }

    init(_ object: [String: JSONValue], what: String) {
        reader = ConfigFields(object: object, what: what, caseInsensitive: true)
    }

    /// The value under `name` (any case); JSON null counts as absent, as in Go.
    func value(_ name: String) -> JSONValue? { reader.value(name) }

    func bool(_ name: String) throws(PluginError) -> Bool? { try reader.bool(name) }

    func int(_ name: String) throws(PluginError) -> Int? {
        guard let i = try reader.int(name) else { return nil }
        guard i >= 0 else {
            throw PluginError(.invalidConfig, "\(what): \(name) must be a non-negative integer, got \(i)")
        }
        return i
    }

    func string(_ name: String) throws(PluginError) -> String? { try reader.string(name) }

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
}
