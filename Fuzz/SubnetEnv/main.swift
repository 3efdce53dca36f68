import CNI
import FlannelCNI

/// `/run/flannel/subnet.env`, written by the node daemon (or flanneld) and read by every
/// flannel CNI call. What it accepts renders to text that reads back the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let env = try? SubnetEnv.parse(String(decoding: bytes, as: UTF8.self), path: "subnet.env") else { return 0 }
    let text = env.rendered()
    guard let again = try? SubnetEnv.parse(text, path: "rendered") else { fatalError("rendered subnet.env does not parse: \(text)") }
    precondition(again == env, "subnet.env round trip changed it: \(text)")
    return 0
}
