@testable import Attach
import CNI
@testable import Netlink

/// A delegated IPAM plugin's stdout, as the bridge reads it (`Delegate.result`, what
/// `Delegate.add` returns) and then turns into the container side's netlink requests
/// (`VethAttachment.containerRequests`), encoded as they would be sent. Its numbers (route
/// mtu, advmss, priority, table, scope; interface mtu; ips[].interface) once trapped there
/// when out of the netlink types' range. A result that reads also prints in every version
/// (that it reads back equal is fuzz-cni-config's check, on the same reader).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let result = try? Delegate.result(of: "fuzz-ipam", output: bytes) else { return 0 }
    for enableDAD in [false, true] {
        let requests = VethAttachment.containerRequests(for: result, index: 7, enableDAD: enableDAD)
        for (n, request) in requests.enumerated() { _ = request.encoded(sequence: UInt32(n)) }
    }
    for version in SpecVersion.allCases { _ = result.json(version: version).serialized() }
    return 0
}
