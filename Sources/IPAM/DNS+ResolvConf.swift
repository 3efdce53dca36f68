import CNI

extension CNIResult.DNS {
    /// Parses resolv.conf text like the reference host-local does for `ipam.resolvConf`:
    /// comment (# ;) and one-word lines skipped, `nameserver` takes its first value, `domain`
    /// the last one seen, `search` and `options` accumulate all their values.
    package init(resolvConf text: String) {
        self.init()
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.count >= 2, !fields[0].hasPrefix("#"), !fields[0].hasPrefix(";") else { continue }
            switch fields[0] {
            case "nameserver": nameservers.append(fields[1])
            case "domain": domain = fields[1]
            case "search": search += fields[1...]
            case "options": options += fields[1...]
            default: break
            }
        }
    }

    /// Reads and parses the file at `path`; a missing or unreadable file is an `.io` error.
    package static func load(resolvConf path: String) throws -> CNIResult.DNS {
        CNIResult.DNS(resolvConf: String(decoding: try Posix.readFile(path), as: UTF8.self))
    }
}
