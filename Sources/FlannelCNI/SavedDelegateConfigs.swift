import CNI
#if canImport(Glibc)
import Glibc
#endif

/// The per-container delegate configs the CNI face keeps under its `dataDir`, one file named
/// by container ID (flannel's layout), written atomically.
///
/// Anyone who can write `dataDir` can plant entries there: a saved config is read only as a
/// regular file, not through a symlink, without blocking, up to `sizeLimit` (flannel's
/// `ioutil.ReadFile` follows links, hangs on a FIFO and reads /dev/zero until memory runs
/// out); a save never writes through a planted temporary or final name (see
/// `Posix.writeAtomically`; flannel's `ioutil.WriteFile` truncates a symlink's target).
struct SavedDelegateConfigs {
    let directory: String

    /// The largest saved config written or read. A delegate config is the face's own
    /// config plus subnet.env's ranges, typically well under 4 KiB; 1 MiB leaves room for
    /// a runtimeConfig with thousands of port mappings. A config over it is refused at ADD
    /// (before anything is set up) rather than saved where DEL could not read it back.
    static let sizeLimit = 1024 * 1024

    init(directory: String) throws {
        self.directory = directory
        try Posix.makeDirectories(directory, mode: 0o755)
    }

    func path(_ containerID: String) -> String { directory + "/" + containerID }

    func save(_ config: JSONValue, containerID: String) throws {
        let bytes = Array(config.serialized().utf8)
        guard bytes.count <= Self.sizeLimit else {
            throw PluginError(.invalidConfig, "the delegate config is \(bytes.count) bytes, more than the \(Self.sizeLimit) this plugin saves for DEL")
        }
        try Posix.writeAtomically(bytes, to: path(containerID), mode: 0o600)
    }

    /// The saved config, nil when there is none; an `.io` error naming the file when it is
    /// no regular file (a planted symlink, FIFO, socket, device) or too large: DEL cannot
    /// know what to undo without it, so it fails rather than reports success.
    func load(containerID: String) throws -> JSONValue? {
        guard let bytes = try Posix.readRegularFile(path(containerID), limit: Self.sizeLimit) else { return nil }
        return try JSONValue.parse(bytes, what: "saved delegate config \(path(containerID))")
    }

    /// Forgets the container's config, and any temporary a save killed midway left
    /// (`Posix.writeAtomically` writes `<id>.tmp.<random digits>` first; `unlink` removes a
    /// planted symlink, never its target): a DEL after a killed ADD
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
