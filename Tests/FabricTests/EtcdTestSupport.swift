import CNI
import Glibc
import NetNS
import TestSupport
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// A throwaway network namespace `rgt-<pid>-<n>` (behind `SWIFTCNI_TEST_NETNS_PREFIX`) with
/// `lo` up, optionally running its own etcd on 127.0.0.1:2379; test code runs on a thread
/// inside it. Everything is torn down at the end, also when the body throws.
enum EtcdFixture {
    static let etcd = "/usr/bin/etcd"
    static let ip = "/usr/sbin/ip"
    /// Root and the etcd binary are needed; without them the tests are skipped.
    static let available = geteuid() == 0 && access(etcd, X_OK) == 0 && access(ip, X_OK) == 0
    static let clientURL = "http://127.0.0.1:2379"

    static func withNamespace<R>(_ label: String, etcd startEtcd: Bool = true,
                                 _ body: @escaping () throws -> R) throws -> R {
        let ns = testNamespaceName("rgt-\(getpid())-\(label)-\(UInt16.random(in: 0...UInt16.max))")
        try run([ip, "netns", "add", ns])
        defer { _ = try? ChildProcess.run(ip, arguments: ["netns", "del", ns]) }
        try run([ip, "-n", ns, "link", "set", "lo", "up"])
        let dir = RegistryTempDirectory("etcd-\(label)")
        var pid: pid_t = 0
        if startEtcd {
            pid = try spawn([ip, "netns", "exec", ns, etcd, "--name", "rgt", "--data-dir", dir.path + "/data",
                             "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
                             "--listen-peer-urls", "http://127.0.0.1:2380",
                             "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                             "--initial-cluster", "rgt=http://127.0.0.1:2380"],
                            log: dir.path + "/etcd.log")
        }
        defer {
            if pid > 0 {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        return try NetworkNamespace(path: "/var/run/netns/\(ns)").run {
            if startEtcd { try waitUntilReady(log: dir.path + "/etcd.log") }
            return try body()
        }
    }

    /// Polls the gateway until it answers (etcd takes a second or two to elect itself).
    static func waitUntilReady(log: String) throws {
        let client = try EtcdRegistry(endpoints: [clientURL])
        client.requestTimeout = 2
        let deadline = monotonicNow() + 30
        while monotonicNow() < deadline {
            if (try? client.call("/v3/kv/range", ["key": .string("eA==")])) != nil { return }
            usleep(100_000)
        }
        let text = (try? RegistryFiles.readIfPresent(log)).flatMap { $0 }.map { String(decoding: $0.suffix(2000), as: UTF8.self) }
        throw PluginError(.failed, "etcd did not become ready", details: text)
    }

    static func run(_ argv: [String]) throws {
        let out = try ChildProcess.run(argv[0], arguments: Array(argv.dropFirst()))
        guard out.succeeded else {
            throw PluginError(.failed, "\(argv.joined(separator: " ")): \(out.termination)",
                              details: String(decoding: out.stderr, as: UTF8.self))
        }
    }

    /// Starts a long-running process with stdout and stderr going to `log`.
    static func spawn(_ argv: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw PluginError(.failed, "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}
