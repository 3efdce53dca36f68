import CNI

/// Network names and container IDs become file and directory names (or file contents)
/// under the data directory; anything that could climb out of it or break the
/// "id CR LF ifname" format is refused before a path is ever built.
enum PathComponent {
    /// `specName`: network names and container IDs must also be in the spec's character set
    /// (an interface name has the kernel's own rules).
    static func validate(_ value: String, as what: String, specName: Bool = true) throws {
        if value.isEmpty {
            throw PluginError(.invalidConfig, "\(what) is empty")
        }
        if value.contains("/") || value.contains("..") || value == "." {
            throw PluginError(.invalidConfig, "\(what) \"\(value)\" contains \"/\" or \"..\" and would escape the data directory")
        }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == " " || $0.value == 0x7f }) {
            throw PluginError(.invalidConfig, "\(what) \"\(value)\" contains whitespace or control characters")
        }
        if specName && !Environment.isSpecName(value) {
            throw PluginError(.invalidConfig, "\(what) \"\(value)\" has characters outside [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        }
    }
}
