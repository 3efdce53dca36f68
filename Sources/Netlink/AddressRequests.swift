import CMnl
import Glibc
import NetTypes

/// Requests that add, delete and list interface addresses (RTM_*ADDR).
extension NetlinkRequest {
    /// Adds `prefix` (an address with its subnet length) to a link; EEXIST if present.
    ///
    /// `noDAD` skips IPv6 duplicate address detection, which otherwise keeps the address
    /// tentative (unusable) for seconds. IPv4 prefixes shorter than /31 get the subnet's
    /// broadcast address, as `ip addr add ... brd +` does.
    package static func addAddress(_ prefix: IPPrefix, index: Int32, noDAD: Bool = false) -> NetlinkRequest {
        var attributes = addressAttributes(prefix)
        if prefix.family == .v4 && prefix.length < 31 {
            attributes.append(IFA_BROADCAST, prefix.lastAddress.bytes)
        }
        let flags = noDAD && prefix.family == .v6 ? UInt8(IFA_F_NODAD) : 0
        return NetlinkRequest(operation: "add address \(prefix) to link \(index)", messageType: RTM_NEWADDR,
                              extraFlags: NLM_F_CREATE | NLM_F_EXCL,
                              header: addressHeader(prefix, index: index, flags: flags), attributes: attributes)
    }

    package static func deleteAddress(_ prefix: IPPrefix, index: Int32) -> NetlinkRequest {
        NetlinkRequest(operation: "delete address \(prefix) from link \(index)", messageType: RTM_DELADDR,
                       header: addressHeader(prefix, index: index), attributes: addressAttributes(prefix))
    }

    /// With strict checking on, a non-zero `index` makes the kernel return only that link's
    /// addresses (as `ip addr show dev` asks), and ENODEV when there is no such link.
    static func dumpAddresses(family: IPAddress.Family?, index: Int32 = 0) -> NetlinkRequest {
        var header = ifaddrmsg()
        header.ifa_family = socketFamily(family)
        header.ifa_index = UInt32(bitPattern: index)
        return .dump(operation: "list addresses", messageType: RTM_GETADDR, header: structBytes(header))
    }

    private static func addressHeader(_ prefix: IPPrefix, index: Int32, flags: UInt8 = 0) -> [UInt8] {
        var header = ifaddrmsg()
        header.ifa_family = prefix.family.socketFamily
        header.ifa_prefixlen = UInt8(prefix.length)
        header.ifa_flags = flags
        header.ifa_index = UInt32(bitPattern: index)
        return structBytes(header)
    }

    /// IFA_LOCAL and IFA_ADDRESS both carry the address: on non-point-to-point links the
    /// kernel expects them equal, and iproute2 sends both for either family.
    private static func addressAttributes(_ prefix: IPPrefix) -> AttributeWriter {
        var attributes = AttributeWriter()
        attributes.append(IFA_LOCAL, prefix.address.bytes)
        attributes.append(IFA_ADDRESS, prefix.address.bytes)
        return attributes
    }
}
