import CNI

/// `CNI_ARGS` and the other `CNI_*` variables a runtime hands a plugin. The input is read
/// twice: whole, as `CNI_ARGS`; and as NUL-separated `NAME=value` variables of the
/// environment. What is accepted must hold the spec's rules.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    if let args = try? CNIArgs(text) {
        precondition(args.values.keys.allSatisfy { !$0.isEmpty }, "CNI_ARGS accepted an empty key: \(text)")
    }
    var env: [String: String] = [:]
    for entry in bytes.split(separator: 0) {
        let pair = entry.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
        env[String(decoding: pair[0], as: UTF8.self)] = pair.count == 2 ? String(decoding: pair[1], as: UTF8.self) : ""
    }
    if let environment = try? Environment(env) {
        let id = environment.containerID
        precondition(id.isEmpty || Environment.isSpecName(id), "accepted container ID outside the spec: \(id)")
        let ifname = environment.ifname
        precondition(ifname.utf8.count <= 15 && !ifname.contains("/"), "accepted interface name \(ifname)")
    }
    return 0
}
