import FoundationEssentials
import Testing

@testable import CNI

/// `JSONParser` replaced `JSONDecoder` + `JSONValue: Decodable` on the start-up path; these
/// check it builds the same values and refuses the same texts, but for one difference on
/// purpose: a number written with a fraction or an exponent stays `.double` (`1e2`, `5.0`),
/// where JSONDecoder made a whole one `.int`, so that integer fields can refuse it.
@Suite struct JSONParserTests {
    /// What the old path made of `text`, or nil when it refused it.
    func viaDecoder(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    func viaParser(_ text: String) -> JSONValue? {
        try? JSONParser.parse(Array(text.utf8))
    }

    @Test(arguments: [
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/16"}]]}}"#,
        #"  {"a" : [1, -2, 3.5, -0, 0, 1e2, 5.0, 2.5E-3, 9223372036854775807, 9223372036854775808, -9223372036854775808]}  "#,
        #"{"t":true,"f":false,"n":null,"e":{},"a":[],"s":""}"#,
        #"["\u00e9\ud83d\ude00\n\t\r\b\f\/\\\"", "plain é 😀"]"#,
        #"{"dup":1,"dup":2}"#, "[1,]", #"{"a":1 , }"#, #"{"k":"a run, then \n an escape, then é","é":"x","":""}"#,
        #""top-level string""#, "42", "-1.25", "true", "null", "[[[[[]]]]]",
        #"{"prevResult":{"ips":[{"address":"10.1.0.2/16","gateway":"10.1.0.1","interface":2}],"dns":{}}}"#,
    ])
    func sameValuesAsJSONDecoder(text: String) throws {
        let expected = try #require(viaDecoder(text))
        #expect(viaParser(text)?.wholeNumbersAsInt == expected)
    }

    @Test func wholeNumbersWithAFractionOrExponentStayDouble() throws {
        let text = "[1e2, 5.0, 100, -0.0, 1E+1]"
        #expect(viaDecoder(text) == .array([.int(100), .int(5), .int(100), .int(0), .int(10)]))
        #expect(viaParser(text) == .array([.double(100), .double(5), .int(100), .double(-0.0), .double(10)]))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[,]", "[1,,]", "{,}", "{\"a\":1,,}", "{'a':1}", "{\"a\" 1}", "[1 2]", "01", "+1", ".5", "1.", "1e",
        "-", "--1", "1e400", "tru", "nul", "NaN", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"",
        "\"\\ud83d alone\"", "\"\\ude00\"", "\"tab\there\"", "{} {}", "[1] x", "{\"a\":1}}",
    ])
    func refusesWhatJSONDecoderRefuses(text: String) {
        #expect(viaDecoder(text) == nil)
        #expect(viaParser(text) == nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect((try? JSONParser.parse([0x22, 0xFF, 0xFE, 0x22])) == nil)
        #expect((try? JSONParser.parse([0x22, 0x61, 0xC3, 0x22])) == nil)  // after an ASCII run, no escape
        #expect((try? JSONParser.parse([0x22, 0x5C, 0x6E, 0xC3, 0x22])) == nil)  // after an escape
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(viaParser(deep) == nil)
    }

    /// The byte writer prints what the String writer did: sorted keys, the same escapes.
    @Test func serializedTextIsUnchanged() throws {
        let value = JSONValue.object([
            "b": .string("q\"\\\n\r\t\u{1b}\u{7f}é😀"),
            "a": .array([.int(-1), .double(2.5), .double(3), .null, .bool(true), .object([:])]),
        ])
        let text = #"{"a":[-1,2.5,3,null,true,{}],"b":"q\"\\\n\r\t\u001b\#u{7f}é😀"}"#
        #expect(value.serialized() == text)
        #expect(try JSONParser.parse(Array(text.utf8)) == value.with3AsInt)
    }

    @Test func errorsNameTheOffset() {
        #expect(throws: PluginError.self) { try JSONValue.parse(Array("[1 2]".utf8), what: "config") }
        do {
            _ = try JSONValue.parse(Array("[1 2]".utf8), what: "config")
        } catch {
            #expect(error.kind == .decode)
            #expect(error.message == "config is not valid JSON")
            #expect(error.details == "expected ',' or ']' at byte 3")
        }
    }
}

private extension JSONValue {
    /// What JSONDecoder made of the same text: a whole number that fits `Int` is `.int`.
    var wholeNumbersAsInt: JSONValue {
        switch self {
        case .double(let d): return Int(exactly: d).map(JSONValue.int) ?? self
        case .array(let a): return .array(a.map(\.wholeNumbersAsInt))
        case .object(let o): return .object(o.mapValues(\.wholeNumbersAsInt))
        default: return self
        }
    }

    /// `3.0` reads back as `.int(3)`, as it did through JSONDecoder.
    var with3AsInt: JSONValue {
        guard case .object(var o) = self, case .array(var a) = o["a"]! else { return self }
        a[2] = .int(3)
        o["a"] = .array(a)
        return .object(o)
    }
}

/// The Decodable conformance `JSONValue` had before `JSONParser`, kept here as the reference
/// the parser is compared with.
extension JSONValue: Decodable {
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
}
