@testable import CNI

/// The JSON parser every plugin runs on its stdin: any bytes either parse or throw, and a
/// parsed value serializes to text that parses back to the same value, but for one change:
/// a whole number written with a fraction or an exponent (`1e3`, `.double(1000)`) prints as
/// an integer, as Go prints a float64, and so reads back as `.int`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = value.serialized()
    guard let again = try? JSONParser.parse(Array(text.utf8)) else {
        fatalError("serialized JSON does not parse again: \(text)")
    }
    // NaN never equals itself; the parser cannot produce one, so equality must hold.
    precondition(again == value.asPrinted, "JSON round trip changed the value: \(text)")
    precondition(again.serialized() == text, "serialized JSON is not stable: \(text)")
    return 0
}

extension JSONValue {
    /// The value as its text reads back: whole doubles that print as integers become `.int`.
    var asPrinted: JSONValue {
        switch self {
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return .int(Int(d))
        case .array(let a): return .array(a.map(\.asPrinted))
        case .object(let o): return .object(o.mapValues(\.asPrinted))
        default: return self
        }
    }
}
