import CMnl

extension Posix {
    /// When the open file `fd` was created, in nanoseconds since the epoch (statx's
    /// `stx_btime`); nil when the kernel or the filesystem does not record it. The directory
    /// registry orders leases by it: the older of two leases for one subnet wins.
    package static func birthTimeNanoseconds(_ fd: Int32) -> Int64? {
        var seconds: Int64 = 0
        var nanoseconds: UInt32 = 0
        guard cmnl_birth_time(fd, &seconds, &nanoseconds) == 0 else { return nil }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflowed) = whole.addingReportingOverflow(Int64(nanoseconds))
        return overflowed ? nil : total
    }
}
