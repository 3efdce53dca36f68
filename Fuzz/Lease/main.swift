@testable import SubnetRegistry
import CNI
import NetTypes

/// A lease as the directory registry stores it (file name = key, content = value) and as
/// etcd holds it: the input's first line is the key, the rest the value. A lease we read
/// encodes to flannel's format and reads back the same; a key we parse is the key we make;
/// the admission judge never traps on it and admits only what its rules allow.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
    let key = String(decoding: bytes[..<newline], as: UTF8.self)
    let value = Array(bytes[min(newline + 1, bytes.endIndex)...])
    if let subnets = LeaseKey.parse(key) {
        let made = LeaseKey.make(subnet: subnets.subnet, ipv6Subnet: subnets.ipv6Subnet)
        let parsed = LeaseKey.parse(made)
        precondition(parsed?.subnet == subnets.subnet && parsed?.ipv6Subnet == subnets.ipv6Subnet,
                     "lease key \(key) -> \(made) does not parse back")
    }
    if LeaseKey.isCanonical(key), let subnets = LeaseKey.parse(key) {
        precondition(LeaseKey.make(subnet: subnets.subnet, ipv6Subnet: subnets.ipv6Subnet) == key, "canonical \(key) is not made back")
    }
    guard var lease = try? LeaseJSON.decode(value, key: key) else { return 0 }
    let encoded = LeaseJSON.encode(lease)
    guard let again = try? LeaseJSON.decode(Array(encoded.utf8), key: key) else {
        fatalError("encoded lease does not decode: \(encoded)")
    }
    precondition(again == lease, "lease round trip changed it: \(encoded)")
    lease.storedKey = key
    lease.creationRank = Int64(bytes.count)
    for admission in admissions {
        let verdict = admission.judge([lease, admission.own])
        for peer in verdict.peers {
            precondition(admission.problem(peer) == nil && LeaseKey.isCanonical(peer.storedKey), "admitted \(peer)")
            precondition(admission.network.contains(peer.subnet.address) && peer.subnet.length == admission.subnetLength
                         && !peer.subnet.overlaps(admission.own.subnet), "admitted \(peer) outside the rules")
        }
        precondition(verdict.own == .held || LeaseKey.isCanonical(lease.storedKey), "an alias changed the own lease: \(verdict)")
    }
    return 0
}

/// A vxlan and a dual-stack host-gw node in 10.0.0.0/8 (IPv6 fd00::/48).
let admissions: [LeaseAdmission] = [
    LeaseAdmission(network: IPPrefix("10.0.0.0/8")!, subnetLength: 24, backendType: "vxlan",
                   own: SubnetLease(subnet: IPPrefix("10.244.1.0/24")!, publicIP: IPAddress("192.168.1.1")!, backendType: "vxlan",
                                    backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("02:00:00:00:00:01")!),
                                    creationRank: 1_000)),
    LeaseAdmission(network: IPPrefix("10.0.0.0/8")!, subnetLength: 24, ipv6Network: IPPrefix("fd00::/48")!, ipv6SubnetLength: 64,
                   backendType: "host-gw",
                   own: SubnetLease(subnet: IPPrefix("10.244.1.0/24")!, ipv6Subnet: IPPrefix("fd00:0:0:1::/64")!,
                                    publicIP: IPAddress("192.168.1.1")!, publicIPv6: IPAddress("fd01::1")!, backendType: "host-gw",
                                    creationRank: 1_000)),
]
