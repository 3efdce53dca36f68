@testable import SubnetRegistry
import CNI

/// flannel's network config (the directory registry's config file, etcd's `<prefix>/config`).
/// What it accepts has subnets inside the network and a range to allocate from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let config = try? FlannelNetworkConfig.parse(bytes) else { return 0 }
    if config.enableIPv4, let network = config.network {
        precondition(config.subnetLen >= network.length && config.subnetLen <= 32, "SubnetLen \(config.subnetLen) outside \(network)")
        if let low = config.subnetMin, let high = config.subnetMax {
            precondition(network.contains(low) && network.contains(high) && low <= high,
                         "subnet range \(low)-\(high) outside \(network)")
        }
    }
    if config.enableIPv6, let network = config.ipv6Network {
        precondition(config.ipv6SubnetLen >= network.length && config.ipv6SubnetLen <= 128,
                     "IPv6SubnetLen \(config.ipv6SubnetLen) outside \(network)")
    }
    return 0
}
