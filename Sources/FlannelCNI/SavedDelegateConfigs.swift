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

    /// Forgets the container's config, and any temporary a save killed midway left
    /// (`Posix.writeAtomically` writes `<id>.tmp.<pid>` first): a DEL after a killed ADD
    /// leaves nothing. The runtime never runs ADD and DEL of one container at once, so a
    /// temporary of this container found here is dead.
    func remove(containerID: String) {
        unlink(path(containerID))
        for name in names() where Self.isTemporary(name, of: containerID) { unlink(path(name)) }
    }

    func containerIDs() -> [String] {
        names().filter { !$0.hasPrefix(".") && !$0.contains(".tmp.") }
    }

    /// GC: removes the temporaries of containers not in `valid` (a save killed midway whose
    /// DEL never came). The saved configs themselves go through `remove(containerID:)`.
    func removeTemporaries(keeping valid: Set<String>) {
        for name in names() where name.contains(".tmp.") {
            if !valid.contains(where: { Self.isTemporary(name, of: $0) }) { unlink(path(name)) }
        }
    }

    private static func isTemporary(_ name: String, of containerID: String) -> Bool {
        name.hasPrefix(containerID + ".tmp.")
            && name.utf8.dropFirst(containerID.utf8.count + 5).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private func names() -> [String] { (try? Posix.listDirectory(directory)) ?? [] }
}
