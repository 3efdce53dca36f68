import CMnl
import Glibc
@testable import Netlink

/// A throwaway network namespace for privileged tests, reached only through its socket.
///
/// A fresh thread unshares into a new namespace, opens the RouteSocket and an fd for the
/// namespace there, and exits. The socket and fd keep the namespace alive; when the sandbox
/// goes away it vanishes with everything in it. The machine's own namespace is never touched
/// because the test thread never enters anything.
final class NamespaceSandbox {
    let socket: RouteSocket
    /// An open /proc/thread-self/ns/net of the namespace, for IFLA_NET_NS_FD.
    let namespaceFD: Int32

    /// Root is needed to create namespaces and links; tests skip otherwise.
    static var isAvailable: Bool { geteuid() == 0 }

    init() throws {
        var outcome: Result<(RouteSocket, Int32), any Error> = .failure(NetlinkError(operation: "start thread", errno: EAGAIN))
        runOnNewThread {
            outcome = Result {
                guard cmnl_unshare(cmnl_clone_newnet()) == 0 else {
                    throw NetlinkError(operation: "unshare network namespace", errno: errno)
                }
                let fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw NetlinkError(operation: "open namespace", errno: errno) }
                do {
                    return (try RouteSocket(), fd)
                } catch {
                    close(fd)
                    throw error
                }
            }
        }
        (socket, namespaceFD) = try outcome.get()
    }

    deinit {
        close(namespaceFD)
    }
}

/// Carries a closure through pthread_create's untyped argument.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body` on a new OS thread and waits for it: namespace changes made there die with it.
func runOnNewThread(_ body: @escaping () -> Void) {
    let argument = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, argument)
    precondition(created == 0, "pthread_create failed: \(created)")
    pthread_join(thread, nil)
}
