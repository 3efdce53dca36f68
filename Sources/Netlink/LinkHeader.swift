import CMnl
import Glibc

/// The ifinfomsg that starts every link request.
///
/// `change` names the flag bits the request sets, so `flags` can turn IFF_UP or IFF_PROMISC
/// on or off without touching the others.
func linkHeader(family: Int32 = AF_UNSPEC, index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
    var header = ifinfomsg()
    header.ifi_family = UInt8(family)
    header.ifi_index = index
    header.ifi_flags = flags
    header.ifi_change = change
    return structBytes(header)
}
