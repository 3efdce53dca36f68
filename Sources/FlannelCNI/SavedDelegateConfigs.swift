import CNI
#if canImport(Glibc)
import Glibc
#endif

/// The per-container delegate configs the CNI face keeps under its `dataDir`, one file named
/// by container ID (flannel's layout), written atomically.
struct SavedDelegateConfigs {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try Posix.makeDirectories(directory, mode: 0o755)
    }

    func path(_ containerID: String) -> String { directory + "/" + containerID }

    func save(_ config: JSONValue, containerID: String) throws {
        try Posix.writeAtomically(Array(config.serialized().utf8), to: path(containerID), mode: 0o600)
    }

    func load(containerID: String) throws -> JSONValue? {
        guard let bytes = try Posix.readFileIfPresent(path(containerID)) else { return nil }
        return try JSONValue.parse(bytes, what: "saved delegate config \(path(containerID))")
    }

    func remove(containerID: String) { unlink(path(containerID)) }

    func containerIDs() -> [String] {
        ((try? Posix.listDirectory(directory)) ?? []).filter { !$0.hasPrefix(".") && !$0.contains(".tmp.") }
    }
}
