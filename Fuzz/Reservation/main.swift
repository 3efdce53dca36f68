@testable import IPAM
import CNI
import NetTypes

/// The files of host-local's data directory, which the reference plugin, older versions and
/// crashes also write: the input's first line is a file name (an address, or not), the rest
/// the file's content (a holder "id CR LF ifname", an old bare container ID, a cursor, or
/// residue). A holder read back from what we write is the attachment we wrote.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
    let name = String(decoding: bytes[..<newline], as: UTF8.self)
    let content = Array(bytes[min(newline + 1, bytes.endIndex)...])
    if let address = IPAddress(name) {
        precondition(IPAddress(address.description) == address, "address \(name) does not print back: \(address)")
    }
    // The cursor file: an address, whitespace around it tolerated.
    _ = IPAddress(String(decoding: content, as: UTF8.self).trimmingWhitespace())
    if let holder = ReservationHolder(fileContent: content) {
        _ = holder.description
        _ = holder.belongs(to: Attachment(containerID: holder.containerID, ifname: "eth0"))
    }
    // Our own format, with a container ID and interface name of the spec's character set
    // taken from the input, reads back as the same attachment.
    let id = String(decoding: content.filter { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") }.prefix(64), as: UTF8.self)
    let ifname = String(decoding: bytes[..<newline].filter { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") }.prefix(15), as: UTF8.self)
    if Environment.isSpecName(id), !ifname.isEmpty {
        let attachment = Attachment(containerID: id, ifname: ifname)
        let written = ReservationHolder.fileContent(for: attachment)
        precondition(ReservationHolder(fileContent: written) == .attachment(attachment),
                     "reservation for \(id)/\(ifname) does not read back")
    }
    return 0
}
