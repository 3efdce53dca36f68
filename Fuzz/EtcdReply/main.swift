@testable import SubnetRegistry
import CNI

/// etcd's unary replies: an error body (any status), a range reply's key-value entries with
/// their base64 keys and values and proto3 64-bit numbers. Bytes survive a base64 round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    for status in [400, 401, 404, 500, 503] {
        let (code, message) = EtcdErrorReply.decode(status: status, body: bytes)
        _ = EtcdErrorReply.classify(code: code, message: message)
    }
    if let reply = try? JSONValue.parse(bytes, what: "etcd reply") {
        for entry in reply["kvs"]?.arrayValue ?? [] {
            if let kv = EtcdKeyValue(entry) { _ = LeaseKey.parse(kv.key) }
        }
        _ = EtcdJSON.int64(reply["header"]?["revision"])
    }
    // Non-canonical text ("ola=": padding bits set) decodes, as Go's non-strict decoder that
    // etcd uses does, so only the bytes must survive a second round.
    if let decoded = EtcdJSON.decodeBase64(bytes: bytes[...]) {
        precondition(EtcdJSON.decodeBase64(bytes: Array(EtcdJSON.base64(decoded).utf8)[...]) == decoded,
                     "base64 does not round-trip: \(String(decoding: bytes, as: UTF8.self))")
    }
    precondition(EtcdJSON.decodeBase64(bytes: Array(EtcdJSON.base64(bytes).utf8)[...]) == bytes, "our base64 does not decode")
    return 0
}
