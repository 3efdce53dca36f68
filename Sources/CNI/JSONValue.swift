import FoundationEssentials

/// Untyped JSON, for the parts of a CNI config we pass through without interpreting
/// (prevResult, delegate configs, unknown plugin fields) and for building output with a
/// stable key order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int(exactly: d)
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Parses JSON text (with `JSONParser`, not `JSONDecoder`: this runs on every plugin
    /// start). Failures become `.decode` errors naming `what` was being read.
    public static func parse(_ bytes: [UInt8], what: String) throws(PluginError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw PluginError(.decode, "\(what) is not valid JSON", details: error.description)
        }
    }

    /// Decodes a typed view of this value (re-encoding is cheap next to a process start).
    public func decode<T: Decodable>(_ type: T.Type, what: String) throws(PluginError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(serialized().utf8))
        } catch let e as PluginError {
            throw e
        } catch {
            throw PluginError(.decode, "\(what) has an unexpected shape", details: Self.describe(error))
        }
    }

    /// A short reason from a DecodingError: which key and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : "at \(p): "
        }
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return path(c) + c.debugDescription
        case .keyNotFound(let k, let c):
            return path(c) + "missing key \(k.stringValue)"
        @unknown default:
            return "\(e)"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
