@testable import CNI

/// The JSON parser every plugin runs on its stdin: any bytes either parse or throw, and a
/// parsed value serializes to text that parses back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = value.serialized()
    guard let again = try? JSONParser.parse(Array(text.utf8)) else {
        fatalError("serialized JSON does not parse again: \(text)")
    }
    // NaN never equals itself; the parser cannot produce one, so equality must hold.
    precondition(again == value, "JSON round trip changed the value: \(text)")
    return 0
}
