/// Untyped JSON, for the parts of a CNI config we pass through without interpreting
/// (prevResult, delegate configs, unknown plugin fields) and for building output with a
/// stable key order.
///
/// Read by `JSONParser` and written by `serialized()`, without Codable: then no plugin links
/// FoundationEssentials, whose thousands of protocol conformances the Swift runtime scans
/// linearly at every first dynamic cast or generic instantiation of a process.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An integer written as one (`1000`, not `1e3` or `1000.0`). Fields are read with
    /// `ConfigFields.integer(_:in:)`, which also says why a value is refused.
    package var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    package var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Parses JSON text (with `JSONParser`, not `JSONDecoder`: this runs on every plugin
    /// start). Failures become `.decode` errors naming `what` was being read.
    package static func parse(_ bytes: [UInt8], what: String) throws(PluginError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw PluginError(.decode, "\(what) is not valid JSON", details: error.description)
        }
    }
}
