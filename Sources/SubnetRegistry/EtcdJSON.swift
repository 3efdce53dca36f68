import CNI

/// The encodings etcd's JSON gateway uses: keys and values as base64, 64-bit numbers as
/// decimal strings (proto3 JSON), zero-valued fields omitted.
enum EtcdJSON {
    static func base64(_ text: String) -> String { base64(Array(text.utf8)) }

    /// Standard base64 with padding (what the gateway expects for keys and values).
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let left = bytes.count - index
            let triple = UInt32(bytes[index]) << 16 | (left > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
                | (left > 2 ? UInt32(bytes[index + 2]) : 0)
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(left > 1 ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(left > 2 ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeBase64(_ value: JSONValue?) -> [UInt8]? {
        guard let text = value?.stringValue else { return nil }
        return decodeBase64(bytes: Array(text.utf8)[...])
    }

    /// Standard base64 (with padding) straight from bytes, nil when malformed: the watch fast
    /// path decodes two per event from the message's bytes.
    static func decodeBase64(bytes text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var quad: UInt32 = 0
        var filled = 0
        var padding = 0
        for byte in text {
            let sextet: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): sextet = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): sextet = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sextet = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): sextet = 62
            case UInt8(ascii: "/"): sextet = 63
            case UInt8(ascii: "="): sextet = 0; padding += 1
            default: return nil
            }
            guard padding == 0 || byte == UInt8(ascii: "=") else { return nil }  // nothing after padding
            quad = quad << 6 | sextet
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: quad >> 16))
                out.append(UInt8(truncatingIfNeeded: quad >> 8))
                out.append(UInt8(truncatingIfNeeded: quad))
                (quad, filled) = (0, 0)
            }
        }
        guard padding <= 2 else { return nil }
        out.removeLast(padding)
        return out
    }

    /// A 64-bit field: a string in proto3 JSON, tolerated as a number; absent means 0.
    static func int64(_ value: JSONValue?) -> Int64 {
        switch value {
        case .string(let s)?: return Int64(s) ?? 0
        case .int(let i)?: return Int64(i)
        case .double(let d)?: return Int64(exactly: d) ?? 0
        default: return 0
        }
    }

    /// The `range_end` that makes a range cover every key starting with `prefix`: the prefix
    /// with its last byte incremented (etcd's `WithPrefix`).
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]  // every key
    }

    /// `{"key":…,"range_end":…}` for the keys under `prefix`.
    static func prefixRange(_ prefix: String) -> [String: JSONValue] {
        ["key": .string(base64(prefix)), "range_end": .string(base64(prefixEnd(prefix)))]
    }
}

/// One key-value from a range or a watch event.
struct EtcdKeyValue {
    let key: String
    let value: [UInt8]
    let modRevision: Int64
    /// The revision that created the key: how old the lease is (the older of two leases for
    /// one subnet wins).
    let createRevision: Int64
    let lease: Int64

    init?(_ json: JSONValue?) {
        guard let json, let key = EtcdJSON.decodeBase64(json["key"]) else { return nil }
        self.key = String(decoding: key, as: UTF8.self)
        value = EtcdJSON.decodeBase64(json["value"]) ?? []
        modRevision = EtcdJSON.int64(json["mod_revision"])
        createRevision = EtcdJSON.int64(json["create_revision"])
        lease = EtcdJSON.int64(json["lease"])
    }
}
