import CMnl

/// The ndmsg that starts neighbour and FDB requests.
func neighbourHeader(family: UInt8, index: Int32, state: UInt16, flags: UInt8 = 0) -> [UInt8] {
    var header = ndmsg()
    header.ndm_family = family
    header.ndm_ifindex = index
    header.ndm_state = state
    header.ndm_flags = flags
    return structBytes(header)
}
