/// Golden bytes are written as hex dumps ("38 00 00 00 ..."), as strace -e write= prints them.
func hexBytes(_ text: String) -> [UInt8] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
}
