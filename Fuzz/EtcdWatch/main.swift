@testable import SubnetRegistry
import CNI

/// etcd's streamed `/v3/watch` body: the input's first byte picks a chunk size, the rest
/// arrives in chunks of that size and is split into lines; each line is decoded as the
/// registry does. The fast scanner must never decide differently from the full decoder: when
/// it takes a line, the full decoder reads the same events from it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let first = bytes.first else { return 0 }
    let body = bytes.dropFirst()
    let chunk = Int(first % 64) + 1
    var lines = EtcdWatchLines()
    var received: [[UInt8]] = []
    var offset = body.startIndex
    while offset < body.endIndex {
        let end = min(offset + chunk, body.endIndex)
        lines.append(Array(body[offset..<end]))
        while let line = lines.next() { received.append(line) }
        offset = end
    }
    let expected = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map { Array($0) }
    precondition(received == expected, "chunked lines differ from the body's lines")
    precondition(lines.incompleteCount == body.count - expected.reduce(0) { $0 + $1.count + 1 })
    let prefix = "/coreos.com/network/subnets/"
    for line in received {
        let decoded = try? EtcdWatchMessage.decode(line, subnetsPrefix: prefix, after: 0)
        if EtcdWatchScan.events(in: line) != nil {
            let full = try? EtcdWatchMessage.decodeInFull(line, subnetsPrefix: prefix, after: 0)
            precondition(decoded == full, "fast path \(String(describing: decoded)) but full decoder \(String(describing: full)) for \(String(decoding: line, as: UTF8.self))")
        }
    }
    return 0
}
