import CNI
import IPAM

/// host-local's view of a network config: ranges, legacy subnet, runtime ranges, routes,
/// data dir. What it accepts names a directory that stays under the data dir, and every range
/// bound lies in the config's ranges.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let config = try? HostLocalConfig(networkConfig: bytes) else { return 0 }
    let name = config.networkName
    precondition(!name.contains("/") && name != "." && name != "..", "network name escapes the data dir: \(name)")
    for set in config.rangeSets {
        for range in set.ranges {
            for address in [range.rangeStart, range.rangeEnd] {
                precondition(config.locate(address) != nil, "range bound \(address) is in no range of the config")
            }
        }
    }
    return 0
}
