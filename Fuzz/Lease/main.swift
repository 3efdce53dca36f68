@testable import SubnetRegistry
import CNI
import NetTypes

/// A lease as the directory registry stores it (file name = key, content = value) and as
/// etcd holds it: the input's first line is the key, the rest the value. A lease we read
/// encodes to flannel's format and reads back the same; a key we parse is the key we make.
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
    guard let lease = try? LeaseJSON.decode(value, key: key) else { return 0 }
    let encoded = LeaseJSON.encode(lease)
    guard let again = try? LeaseJSON.decode(Array(encoded.utf8), key: key) else {
        fatalError("encoded lease does not decode: \(encoded)")
    }
    precondition(again == lease, "lease round trip changed it: \(encoded)")
    return 0
}
