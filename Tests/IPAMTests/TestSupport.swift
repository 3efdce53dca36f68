import CNI
import Glibc
import NetTypes
import Testing

@testable import IPAM

/// Runs `body` with a fresh directory under /tmp, removed afterwards (also on failure).
func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/ipam-test-\(getpid())-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    defer { removeTree(dir) }
    return try body(dir)
}

func removeTree(_ path: String) {
    if unlink(path) == 0 || errno == ENOENT { return }
    for name in (try? Posix.listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
    rmdir(path)
}

/// A validated config from the `ipam` object's JSON body, network "net1", in `dataDir`.
func config(_ ipamFields: String, dataDir: String = "/tmp/unused", name: String = "net1") throws -> HostLocalConfig {
    let json = #"{"cniVersion":"1.0.0","name":"\#(name)","type":"bridge","ipam":{"type":"host-local","dataDir":"\#(dataDir)",\#(ipamFields)}}"#
    return try HostLocalConfig(networkConfig: Array(json.utf8))
}

func allocator(_ ipamFields: String, dataDir: String) throws -> HostLocalAllocator {
    HostLocalAllocator(config: try config(ipamFields, dataDir: dataDir))
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }
func prefix(_ text: String) -> IPPrefix { IPPrefix(text)! }

/// The kind of `PluginError` `body` throws, with its message, or nil if it succeeds.
func thrownError(_ body: () throws -> Void) -> PluginError? {
    do {
        try body()
        return nil
    } catch let error as PluginError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

func fileBytes(_ path: String) -> [UInt8]? { try? Posix.readRegularFile(path, limit: 1 << 20) }
func fileText(_ path: String) -> String? { fileBytes(path).map { String(decoding: $0, as: UTF8.self) } }

func writeFile(_ path: String, _ text: String) throws {
    let fd = try Posix.open(path, O_WRONLY | O_CREAT | O_TRUNC)
    defer { close(fd) }
    try Posix.writeAll(fd, Array(text.utf8), path: path, using: systemWrite)
}

/// Writes files into the allocator's network directory as another tool (or an older
/// reference version) would have left them.
func seed(_ a: HostLocalAllocator, _ files: KeyValuePairs<String, String>) throws {
    try Posix.makeDirectories(a.directory, mode: 0o755)
    for (name, content) in files { try writeFile(a.directory + "/" + name, content) }
}
