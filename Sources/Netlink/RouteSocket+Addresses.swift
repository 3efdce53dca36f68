import NetTypes

/// Address convenience methods: one request each, errors thrown.
extension RouteSocket {
    /// Addresses of one family (nil: all), optionally only those on one link.
    public func addresses(family: IPAddress.Family? = nil, index: Int32? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        try dump(.dumpAddresses(family: family))
            .compactMap(InterfaceAddress.init)
            .filter { address in index.map { address.index == $0 } ?? true }
    }

    public func addAddress(_ prefix: IPPrefix, index: Int32, noDAD: Bool = false) throws(NetlinkError) {
        try perform(.addAddress(prefix, index: index, noDAD: noDAD))
    }

    public func deleteAddress(_ prefix: IPPrefix, index: Int32) throws(NetlinkError) {
        try perform(.deleteAddress(prefix, index: index))
    }
}
