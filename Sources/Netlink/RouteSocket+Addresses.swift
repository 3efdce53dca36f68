import Glibc
import NetTypes

/// Address convenience methods: one request each, errors thrown.
extension RouteSocket {
    /// Addresses of one family (nil: all), optionally only those on one link.
    /// The kernel filters by link (strict checking), so the cost does not grow with the
    /// addresses of other links; the filter here only restates it.
    package func addresses(family: IPAddress.Family? = nil, index: Int32? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        let messages: [ReceivedMessage]
        do {
            messages = try dump(.dumpAddresses(family: family, index: index ?? 0))
        } catch where index != nil && error.errno == ENODEV {
            return []  // the link is gone, so are its addresses
        }
        return messages
            .compactMap(InterfaceAddress.init)
            .filter { address in index.map { address.index == $0 } ?? true }
    }

    package func addAddress(_ prefix: IPPrefix, index: Int32, noDAD: Bool = false) throws(NetlinkError) {
        try perform(.addAddress(prefix, index: index, noDAD: noDAD))
    }

    package func deleteAddress(_ prefix: IPPrefix, index: Int32) throws(NetlinkError) {
        try perform(.deleteAddress(prefix, index: index))
    }
}
