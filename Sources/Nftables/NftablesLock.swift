import CNI
import Glibc

/// The flock that orders the plugins' `nft -f` runs against the listings that DEL and GC
/// delete from, one per network namespace (one nftables ruleset).
///
/// A plugin killed while its `nft -f` child runs leaves the child running; were that child to
/// commit after the runtime's DEL had listed the container's elements, they would stay. So
/// whoever starts `nft -f` holds the lock **exclusively** and hands the locked descriptor to
/// the child (`ChildProcess.run(passing:)`): the lock lives as long as the open file
/// description, i.e. until `nft` itself exits, whatever happens to the plugin. DEL and GC
/// take it **shared** around their list-then-delete, so they wait for any such child and
/// then see what it committed. Shared, because DELs and GCs only delete what they listed
/// (by key) and do not replace anything, so they need not exclude each other; `nft -f` can
/// replace an element (take-over of a dead owner's address or port), so it excludes them
/// all, and a DEL can never delete by key an element that changed owner after its listing.
/// The common ADD path (one in-process netlink batch, which dies with the process) takes no
/// lock.
///
/// The file is `/run/swift-cni/nftables.<inode>.lock`, keyed by the inode of the namespace
/// (nsfs inodes are unique among live namespaces; a reused one names a new namespace only
/// once the old one is gone, and a stale lock file holds no state). `/run` is a tmpfs, so the
/// files go at reboot; a node has one per namespace whose nftables the plugins touched.
package struct NftablesLock: Sendable {
    package static let directory = "/run/swift-cni"

    /// The namespace file whose inode names the lock; its path is resolved at each use.
    let namespace: String

    /// The calling process's namespace: the node's, where the plugins keep their tables.
    package static let node = NftablesLock(namespace: "/proc/self/ns/net")

    /// The namespace at `path` (e.g. `/run/netns/<name>`), for tests that work inside one.
    package static func namespace(path: String) -> NftablesLock { NftablesLock(namespace: path) }

    /// The lock file's path.
    package func path() throws -> String {
        var info = stat()
        guard stat(namespace, &info) == 0 else { throw Posix.ioError("identify network namespace", namespace) }
        return "\(Self.directory)/nftables.\(info.st_ino).lock"
    }

    /// Runs `body` with the lock held exclusively; `body` gets the locked descriptor to pass
    /// to the `nft` child it starts. Closing our copy does not release the child's.
    package func exclusive<T>(_ body: (Int32) throws -> T) throws -> T {
        let fd = try acquire(LOCK_EX)
        defer { close(fd) }
        return try body(fd)
    }

    /// Runs `body` with the lock shared: after every `nft -f` that started before has exited.
    package func shared<T>(_ body: () throws -> T) throws -> T {
        let fd = try acquire(LOCK_SH)
        defer { close(fd) }
        return try body()
    }

    /// Never `LOCK_UN`: that would release the lock of a child that shares the description.
    private func acquire(_ operation: Int32) throws -> Int32 {
        let file = try path()
        let fd: Int32
        do {
            fd = try Posix.open(file, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        } catch {
            guard access(Self.directory, F_OK) != 0 else { throw error }
            try Posix.makeDirectories(Self.directory, mode: 0o755)
            fd = try Posix.open(file, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        }
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                let error = Posix.ioError("lock", file)
                close(fd)
                throw error
            }
        }
        return fd
    }
}
