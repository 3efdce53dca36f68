/// Netlink integers travel in host byte order (except a few network-order fields such as
/// the VXLAN port); these helpers keep that conversion in one place.
extension FixedWidthInteger {
    /// The value's bytes in host order, as the kernel expects in netlink attributes.
    var hostOrderBytes: [UInt8] {
        withUnsafeBytes(of: self) { Array($0) }
    }

    /// The value's bytes in network (big-endian) order.
    var networkOrderBytes: [UInt8] {
        withUnsafeBytes(of: bigEndian) { Array($0) }
    }

    /// Reads a host-order value from the start of `bytes`; nil when there are too few.
    init?(hostOrderBytes bytes: some Collection<UInt8>) {
        guard bytes.count >= MemoryLayout<Self>.size else { return nil }
        var value = Self.zero
        withUnsafeMutableBytes(of: &value) { raw in
            for (offset, byte) in bytes.prefix(MemoryLayout<Self>.size).enumerated() {
                raw[offset] = byte
            }
        }
        self = value
    }
}

/// The raw bytes of a uapi C struct (ifinfomsg, rtmsg, ...), so headers use the kernel's
/// own layout instead of a hand-copied one.
func structBytes<T>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

/// Reads a uapi C struct from the start of `bytes`; nil when the payload is too short.
func loadStruct<T: BitwiseCopyable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
    guard bytes.count >= MemoryLayout<T>.size else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}
