import CNI

/// A plugin's stdin: the shared network config fields, prevResult (a CNI result of any
/// version), GC's valid attachments, and the requested IPs and MAC read from it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let config = try? NetworkConfig(bytes: bytes) else { return 0 }
    precondition(Environment.isSpecName(config.name), "accepted a network name outside the spec: \(config.name)")
    let args = try? CNIArgs("IgnoreUnknown=1")
    if let args {
        _ = try? config.requestedIPs(args: args)
        _ = try? config.requestedMAC(args: args)
    }
    if let previous = config.prevResult {
        // What the plugin prints back must read as the same result.
        let printed = previous.json(version: .latest)
        guard let again = try? CNIResult(json: printed, what: "result") else {
            fatalError("a result we print does not parse again: \(printed.serialized())")
        }
        precondition(again == previous, "result round trip changed it: \(printed.serialized())")
        for version in SpecVersion.allCases { _ = previous.json(version: version).serialized() }
    }
    return 0
}
