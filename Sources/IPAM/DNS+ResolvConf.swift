import CNI
import Glibc

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

    /// The largest resolv.conf read: glibc's resolver uses at most 3 nameservers and 6
    /// search domains (a few hundred bytes); 64 KiB leaves room for any comment header.
    static let resolvConfLimit = 64 * 1024

    /// Reads and parses the file at `path`; a missing or unreadable file is an `.io` error,
    /// and so is one that is no regular file (a FIFO would block, /dev/zero never ends) or
    /// is larger than `resolvConfLimit`. The path is the operator's: a symlink is followed
    /// (as the reference's `os.Open` does; /etc/resolv.conf usually is one), to a regular
    /// file only.
    package static func load(resolvConf path: String) throws -> CNIResult.DNS {
        guard let bytes = try Posix.readRegularFile(path, limit: resolvConfLimit, followSymlink: true) else {
            throw Posix.ioError("read", path, ENOENT)
        }
        return CNIResult.DNS(resolvConf: String(decoding: bytes, as: UTF8.self))
    }
}
