#if canImport(Glibc)
import CNI
import Glibc
#endif

/// What a run of inotify events on the subnets directory says: which lease files to read
/// again, or that only a full listing can tell (the queue overflowed, the directory itself
/// went away). Pure, so the decoding of the kernel's records is unit-tested.
struct InotifyBatch: Equatable {
    /// Names whose file was created, replaced, written, touched, renamed or deleted. Their
    /// current state on disk is the change; the kind of event does not matter.
    var names: Set<String> = []
    /// Events were lost (IN_Q_OVERFLOW) or the watch itself ended: list everything.
    var mustRelist = false
    /// The watch is gone (directory deleted or moved, filesystem unmounted): set up a new one.
    var watchEnded = false

    /// Adds the `struct inotify_event` records in `bytes` (as read(2) returned them).
    /// Dot names (temp files, the lock file) are not leases and are skipped.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset + 16 <= bytes.count {
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let end = min(bytes.count, offset + 16 + length)
            let name = bytes[(offset + 16)..<end].prefix { $0 != 0 }
            if mask & UInt32(IN_Q_OVERFLOW) != 0 { mustRelist = true }
            if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED) != 0 {
                mustRelist = true
                watchEnded = true
            }
            if !name.isEmpty && name.first != UInt8(ascii: ".") {
                names.insert(String(decoding: name, as: UTF8.self))
            }
            offset += 16 + length
        }
    }

    var isEmpty: Bool { names.isEmpty && !mustRelist }
}
