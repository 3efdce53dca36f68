import CMnl
#if canImport(Glibc)
import Glibc
#endif

/// Why a namespace could not be opened or entered, with the kernel's reason.
package struct NamespaceError: Error, CustomStringConvertible, Sendable {
    package enum Reason: Sendable, Equatable {
        case notFound
        case notANetworkNamespace
        case system(Int32)
    }
    package let path: String
    package let operation: String
    package let reason: Reason

    package var description: String {
        switch reason {
        case .notFound: return "\(operation) \(path): no such file"
        case .notANetworkNamespace: return "\(operation) \(path): not a network namespace"
        case .system(let e): return "\(operation) \(path): \(String(cString: strerror(e)))"
        }
    }
}

/// An open network namespace (a file descriptor on an nsfs file such as
/// `/var/run/netns/x` or `/proc/<pid>/ns/net`).
///
/// `setns` switches only the calling thread, so code runs inside the namespace on a fresh
/// thread that enters it and then ends: nothing ever switches back, and no other work can
/// land on a thread that is in the wrong namespace. Netlink sockets opened there stay bound
/// to the namespace and can be used from any thread afterwards.
package final class NetworkNamespace: @unchecked Sendable {
    package let fd: Int32
    package let path: String

    /// Opens and checks that `path` really is a network namespace.
    package init(path: String) throws(NamespaceError) {
        let fd = cmnl_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else {
            let e = errno
            throw NamespaceError(path: path, operation: "open netns", reason: e == ENOENT ? .notFound : .system(e))
        }
        let type = cmnl_ns_get_nstype(fd)
        guard type == cmnl_clone_newnet() else {
            close(fd)
            throw NamespaceError(path: path, operation: "open netns", reason: .notANetworkNamespace)
        }
        self.fd = fd
        self.path = path
    }

    /// The namespace of the calling thread.
    package static func current() throws(NamespaceError) -> NetworkNamespace {
        try NetworkNamespace(path: "/proc/thread-self/ns/net")
    }

    deinit { close(fd) }

    /// Runs `body` synchronously on a new thread inside this namespace and returns its result.
    /// Never `await` in or around this: the point is that nothing else runs on that thread.
    package func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { escaping in
            let work = NamespaceThreadWork(fd: fd) { try escaping() }
            try work.runOnNewThread(path: path)
            return try work.result!.get() as! T
        }
    }
}

/// The state shared with the namespace thread; the caller joins it before reading anything.
final class NamespaceThreadWork: @unchecked Sendable {
    let fd: Int32
    let body: () throws -> Any
    var setnsErrno: Int32 = 0
    var result: Result<Any, any Error>?

    init(fd: Int32, body: @escaping () throws -> Any) {
        self.fd = fd
        self.body = body
    }

    func runOnNewThread(path: String) throws {
        let started = PlainThread.start { [self] in
            if cmnl_setns(fd, cmnl_clone_newnet()) != 0 {
                setnsErrno = errno
                return
            }
            result = Result { try body() }
        }
        let thread: pthread_t
        switch started {
        case .success(let running): thread = running
        case .failure(let error): throw NamespaceError(path: path, operation: "start thread for netns", reason: .system(error.errno))
        }
        pthread_join(thread, nil)
        if setnsErrno != 0 {
            throw NamespaceError(path: path, operation: "setns", reason: .system(setnsErrno))
        }
    }
}
