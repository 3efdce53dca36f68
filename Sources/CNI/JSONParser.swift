/// A strict RFC 8259 parser from bytes straight to `JSONValue`.
///
/// Every plugin run parses its stdin config, so this is on the start-up path of every CNI
/// call: going through FoundationEssentials' `JSONDecoder` and `JSONValue`'s `Decodable`
/// conformance cost a generic decoding container per value, a `try?` cascade of type probes
/// and the runtime's protocol-conformance scans, about a quarter of the plugin's own CPU.
/// The values it builds are the ones that path built, but for one thing: a number is `.int`
/// only when it is written as an integer (no fraction, no exponent) and fits `Int`, and
/// `.double` otherwise, also `5.0` or `1e3`, which JSONDecoder made `.int`: an integer field
/// refuses those, as Go's encoding/json does for the reference plugins, instead of taking
/// them for what they happen to round to. A repeated object key keeps its first value;
/// and, as JSONDecoder does, one trailing comma before `]` or `}` is accepted.
struct JSONParser {
    /// Why the text is not JSON, with the byte offset; becomes a `PluginError`'s details.
    struct Failure: Error, CustomStringConvertible {
        let reason: String
        let offset: Int
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// Deeper nesting is refused rather than risking the stack (JSONDecoder's limit too).
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses one whole document: a value with only whitespace around it.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
        return value
    }

    private func failure(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { position += 1 }
    }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw failure("unexpected end of input") }
        for i in 0..<count where bytes[position + i] != literal.utf8Start[i] {
            throw failure("invalid literal")
        }
        position += count
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
        guard let b = current else { throw failure("unexpected end of input") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        position += 1
        // Members are collected in order and hashed once at the end, into a dictionary of the
        // right size: no rehashing as it grows, one lookup per key (first one wins).
        var members: [(String, JSONValue)] = []
        func finished() -> JSONValue { .object(Dictionary(members, uniquingKeysWith: { first, _ in first })) }
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return finished() }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            position += 1
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
                if current == UInt8(ascii: "}") { position += 1; return finished() }
            case UInt8(ascii: "}"): position += 1; return finished()
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
                if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// A string token; the opening quote is at `position`. Unescaped runs are copied as
    /// they are and validated as UTF-8 once at the end.
    private mutating func string() throws(Failure) -> String {
        position += 1
        // Most strings have no escapes: find the closing quote in one pass and validate the
        // slice once (a thousand base64 values in an etcd watch message, for one), instead of
        // copying byte by byte.
        let start = position
        let (end, closed, ascii) = bytes.withUnsafeBufferPointer { buffer in
            var i = start
            var ascii = true
            while i < buffer.count, buffer[i] != UInt8(ascii: "\""), buffer[i] != UInt8(ascii: "\\"), buffer[i] >= 0x20 {
                ascii = ascii && buffer[i] < 0x80
                i += 1
            }
            return (i, i < buffer.count && buffer[i] == UInt8(ascii: "\""), ascii)
        }
        if closed {
            position = end + 1
            // ASCII needs no validation; anything else is validated.
            let text = bytes.withUnsafeBufferPointer { buffer in
                let run = UnsafeBufferPointer(rebasing: buffer[start..<end])
                return ascii ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
            }
            guard let text else { throw failure("string is not valid UTF-8") }
            return text
        }
        var utf8 = Array(bytes[start..<end])
        position = end
        while true {
            guard let b = current else { throw failure("unterminated string") }
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                guard let s = String(validating: utf8, as: UTF8.self) else { throw failure("string is not valid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                position += 1
                try escape(into: &utf8)
            case 0..<0x20:
                throw failure("unescaped control character in string")
            default:
                utf8.append(b)
                position += 1
            }
        }
    }

    private mutating func escape(into utf8: inout [UInt8]) throws(Failure) {
        guard let b = current else { throw failure("unterminated string") }
        position += 1
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(b)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired surrogate in \\u escape")
                }
                position += 2
                let low = UInt32(try hex4())
                guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let u = Unicode.Scalar(scalar) else { throw failure("unpaired surrogate in \\u escape") }
            utf8.append(contentsOf: UTF8.encode(u)!)
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt16 {
        guard position + 4 <= bytes.count else { throw failure("unterminated \\u escape") }
        var v: UInt16 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt16(digit)
            position += 1
        }
        return v
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as RFC 8259 has it.
    private mutating func number() throws(Failure) -> JSONValue {
        let start = position
        var integral = true
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
        } else {
            guard digits() > 0 else { throw failure("invalid number") }
        }
        if current == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard digits() > 0 else { throw failure("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw failure("invalid number") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let i = Int(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else {
            position = start
            throw failure("number out of range")
        }
        return .double(d)
    }

    private mutating func digits() -> Int {
        let start = position
        while let b = current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { position += 1 }
        return position - start
    }
}
