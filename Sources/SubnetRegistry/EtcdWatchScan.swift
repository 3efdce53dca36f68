import CNI

/// The fast path of `EtcdWatchMessage.decode` for the one message that can be large: a
/// watch response carrying events (a thousand leases written at once are one message of
/// ~300 KB). It reads only the fields an event needs, straight from the bytes, where the
/// general parser would build a dictionary per event and a string per field first.
///
/// Anything it does not expect (an error, a created or cancelled watch, a string with an
/// escape, a shape etcd does not write) makes it give up (nil), and the caller decodes the
/// message in full, so it never decides differently from the general path, only faster.
struct EtcdWatchScan {
    /// One event as found: byte ranges of the base64 key and value, and its revision.
    struct RawEvent {
        var isDelete = false
        var key: Range<Int>?
        var value: Range<Int>?
        var modRevision: Int64 = 0
        var createRevision: Int64 = 0
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The events of a `{"result":{...,"events":[...]}}` line, nil for any other message.
    static func events(in line: [UInt8]) -> [RawEvent]? {
        line.withUnsafeBufferPointer { buffer in
            var scan = EtcdWatchScan(buffer)
            var events: [RawEvent]?
            let parsed = scan.object { scan, key in
                guard key == "result" else { return false }  // "error", or something new
                return scan.object { scan, key in
                    switch key {
                    case "events": events = scan.events(); return events != nil
                    case "created", "canceled": return false  // rare: the full decoder handles them
                    default: return scan.skipValue()
                    }
                }
            }
            scan.skipWhitespace()
            guard parsed, scan.position == buffer.count, let events, !events.isEmpty else { return nil }
            return events
        }
    }

    private mutating func events() -> [RawEvent]? {
        var events: [RawEvent] = []
        let parsed = array { scan in
            var event = RawEvent()
            let ok = scan.object { scan, key in
                switch key {
                case "type":
                    guard let text = scan.string() else { return false }
                    event.isDelete = scan.bytes[text].elementsEqual("DELETE".utf8)
                    return true
                case "kv":
                    return scan.object { scan, key in
                        switch key {
                        case "key": event.key = scan.string(); return event.key != nil
                        case "value": event.value = scan.string(); return event.value != nil
                        case "mod_revision":
                            guard let text = scan.string(), let revision = scan.decimal(text) else { return false }
                            event.modRevision = revision
                            return true
                        case "create_revision":
                            guard let text = scan.string(), let revision = scan.decimal(text) else { return false }
                            event.createRevision = revision
                            return true
                        default: return scan.skipValue()
                        }
                    }
                default: return scan.skipValue()
                }
            }
            events.append(event)
            return ok
        }
        return parsed ? events : nil
    }

    // MARK: JSON pieces (no escapes: a string with one is left to the full decoder)

    mutating func skipWhitespace() {
        while position < bytes.count,
              bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D || bytes[position] == 0x09 {
            position += 1
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// `{ "key": value, ... }`, `member` reading each value; false when malformed or refused,
    /// and when a key repeats (the full decoder keeps the first value, `member` the last).
    private mutating func object(_ member: (inout EtcdWatchScan, String) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        var seen: [String] = []
        repeat {
            skipWhitespace()
            guard let range = string(), take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            guard !seen.contains(key) else { return false }
            seen.append(key)
            guard member(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    private mutating func array(_ element: (inout EtcdWatchScan) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            skipWhitespace()
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// A string's contents (without quotes); nil if it is not a string, has an escape, or has
    /// a byte outside ASCII (etcd's base64 and decimal strings never do; the full decoder
    /// checks UTF-8, so such a line is left to it).
    private mutating func string() -> Range<Int>? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"),
              bytes[end] >= 0x20, bytes[end] < 0x80 { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        position = end + 1
        return start..<end
    }

    /// Any value: strings, numbers, literals, and objects and arrays made of them.
    private mutating func skipValue() -> Bool {
        guard position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"): return object { scan, _ in scan.skipValue() }
        case UInt8(ascii: "["): return array { $0.skipValue() }
        default:
            let start = position
            while position < bytes.count, Self.isScalarByte(bytes[position]) { position += 1 }
            // Only what the full decoder reads as a number or literal ("tru" or "1.2.3" is not).
            return position > start
                && (try? JSONValue.parse(Array(bytes[start..<position]), what: "etcd watch value")) != nil
        }
    }

    private static func isScalarByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "E")
    }

    /// proto3's 64-bit numbers are decimal strings.
    private func decimal(_ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        for i in range {
            guard bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
        }
        return value
    }
}
