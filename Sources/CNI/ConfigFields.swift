/// One JSON object of a configuration, read field by field with one set of rules for the
/// whole suite (CNI configs, host-local's `ipam`, flannel's network config and leases):
/// - a missing or null field is absent;
/// - a field of the wrong JSON type is `.decode` (code 6), naming its path, as the spec's
///   "failed to decode content" and whatever the plugin;
/// - a value of the right type that makes no sense (a bad CIDR, an unknown mode) is for the
///   caller to refuse as `.invalidConfig` (code 7), naming the field;
/// - an integer field takes a number written as an integer, within the range of what it
///   becomes: a fraction or an exponent (`1.5`, `1e3`, refused by Go's encoding/json too) or
///   a value outside the range is `.invalidConfig` (code 7), naming the field and the range,
///   never a trap further on;
/// - unknown fields are ignored.
/// Flannel's config is read case-insensitively (Go's encoding/json matches field names
/// without regard to case, and flannel's docs use both "Network" and "network").
package struct ConfigFields: Sendable {
    package let fields: [String: JSONValue]
    /// Where this object sits ("" at the top, "ipam.ranges[0][1]" deeper), for messages.
    package let path: String
    /// What the whole document is ("network config", "lease 10.244.1.0-24"), for messages.
    package let what: String
    let caseInsensitive: Bool

    package init(_ value: JSONValue, path: String = "", what: String = "network config",
                caseInsensitive: Bool = false) throws(PluginError) {
        guard let fields = value.objectValue else {
            throw Self.mismatch(what: what, path: path, expected: "an object", got: value)
        }
        self.init(object: fields, path: path, what: what, caseInsensitive: caseInsensitive)
    }

    package init(object: [String: JSONValue], path: String = "", what: String = "network config",
                caseInsensitive: Bool = false) {
        self.fields = object
        self.path = path
        self.what = what
        self.caseInsensitive = caseInsensitive
    }

    /// The value under `key`; JSON null counts as absent.
    package func value(_ key: String) -> JSONValue? {
        var found = fields[key]
        if found == nil, caseInsensitive {
            let lower = key.lowercased()
            found = fields.first { $0.key.lowercased() == lower }?.value
        }
        return found == .null ? nil : found
    }

    package func string(_ key: String) throws(PluginError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw mismatch(key, "a string", v) }
        return s
    }

    package func bool(_ key: String) throws(PluginError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw mismatch(key, "true or false", v) }
        return b
    }

    package func bool(_ key: String, default fallback: Bool) throws(PluginError) -> Bool {
        try bool(key) ?? fallback
    }

    package func int(_ key: String) throws(PluginError) -> Int? {
        try integer(key, in: Int.min...Int.max)
    }

    /// An integer field as the type it is used as (a netlink `UInt32`, a `UInt8` scope), so
    /// no later conversion can trap on it.
    package func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type) throws(PluginError) -> T? {
        try integer(key, in: T.min...T.max)
    }

    /// An integer field within `range`.
    package func integer<T: FixedWidthInteger>(_ key: String, in range: ClosedRange<T>) throws(PluginError) -> T? {
        guard let v = value(key) else { return nil }
        func refused(_ why: String) -> PluginError {
            PluginError(.invalidConfig, "\(what): \(child(key)): \(why)")
        }
        let outOfRange = "is out of range \(range.lowerBound)...\(range.upperBound)"
        switch v {
        case .int(let i):
            guard let t = T(exactly: i), range.contains(t) else { throw refused("\(i) \(outOfRange)") }
            return t
        case .double(let d):
            // A whole number the range cannot hold is said to be out of range (1e20); any
            // other is refused for its spelling, whatever it rounds to.
            if d == d.rounded(), T(exactly: d).map(range.contains) != true { throw refused("\(d) \(outOfRange)") }
            throw refused("\(d) is not an integer (it is written with a fraction or an exponent)")
        default:
            throw mismatch(key, "an integer", v)
        }
    }

    package func array(_ key: String) throws(PluginError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw mismatch(key, "an array", v) }
        return a
    }

    package func object(_ key: String) throws(PluginError) -> ConfigFields? {
        guard let v = value(key) else { return nil }
        return try ConfigFields(v, path: child(key), what: what, caseInsensitive: caseInsensitive)
    }

    /// The path of a field of this object, for messages and nested readers.
    package func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// A wrong JSON type at `key`.
    package func mismatch(_ key: String, _ expected: String, _ got: JSONValue) -> PluginError {
        Self.mismatch(what: what, path: child(key), expected: expected, got: got)
    }

    package static func mismatch(what: String, path: String, expected: String, got: JSONValue) -> PluginError {
        PluginError(.decode, "cannot decode \(what)",
                    details: (path.isEmpty ? "" : "at \(path): ") + "expected \(expected), got \(got.serialized())")
    }
}
