import Glibc
import Testing
@testable import CNI

@Suite struct ChildProcessTests {
    @Test func echoesLargeInputWithoutDeadlock() throws {
        // cat writes while we still write: without poll both sides would block on full pipes.
        let input = (0..<4_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let out = try ChildProcess.run("/bin/cat", stdin: input)
        #expect(out.termination == .exited(0))
        #expect(out.stdout == input)
        #expect(out.stderr.isEmpty)
    }

    @Test func reportsExitStatusAndStderr() throws {
        let out = try ChildProcess.run("/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"])
        #expect(out.termination == .exited(3))
        #expect(!out.succeeded)
        #expect(String(decoding: out.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: out.stderr, as: UTF8.self) == "err\n")
    }

    @Test func reportsSignal() throws {
        let out = try ChildProcess.run("/bin/sh", arguments: ["-c", "kill -9 $$"])
        #expect(out.termination == .signaled(SIGKILL))
    }

    @Test func passesExactlyTheGivenEnvironment() throws {
        let out = try ChildProcess.run("/usr/bin/env", environment: ["A=1", "CNI_COMMAND=ADD"])
        #expect(String(decoding: out.stdout, as: UTF8.self) == "A=1\nCNI_COMMAND=ADD\n")
    }

    @Test func childInheritsOnlyStdio() throws {
        let leaked = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        #expect(leaked >= 0)
        defer { close(leaked) }
        let out = try ChildProcess.run("/bin/sh", arguments: ["-c", "ls /proc/$$/fd"])
        #expect(String(decoding: out.stdout, as: UTF8.self) == "0\n1\n2\n")
    }

    @Test func childThatIgnoresStdinDoesNotKillUs() throws {
        let out = try ChildProcess.run("/bin/true", stdin: [UInt8](repeating: 7, count: 1_000_000))
        #expect(out.termination == .exited(0))
    }

    @Test func missingExecutableThrowsIOError() {
        do {
            _ = try ChildProcess.run("/nonexistent/plugin")
            Issue.record("expected an error")
        } catch let error as PluginError {
            #expect(error.kind == .io)
            #expect(error.description.contains("/nonexistent/plugin"))
            #expect(error.description.contains("No such file"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func locatesInSearchPathThenFallback() {
        #expect(ChildProcess.locate("sh", searchPath: "/nonexistent:/bin") == "/bin/sh")
        #expect(ChildProcess.locate("sh", searchPath: nil, fallback: "/bin/sh") == "/bin/sh")
        #expect(ChildProcess.locate("no-such-tool", searchPath: "/bin") == nil)
    }

    // MARK: - Passing a locked descriptor (NftablesLock)

    @Test func passedDescriptorIsTheChildsFdThreeAndNothingElseLeaks() throws {
        let leaked = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        let passed = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(leaked); close(passed) }
        let out = try ChildProcess.run("/bin/sh", arguments: ["-c", "ls /proc/$$/fd; readlink /proc/$$/fd/3"], passing: passed)
        #expect(String(decoding: out.stdout, as: UTF8.self) == "0\n1\n2\n3\n/dev/null\n")
    }

    /// What makes a SIGKILLed plugin's `nft` child keep the lock: the flock belongs to the open
    /// file description, which the child shares. Here the child leaves a grandchild holding its
    /// fd 3 for 2 s (as an orphaned nft would), and our own copy is closed: the lock stays taken
    /// until the grandchild exits, then it is free. (Checked after 0.3 s: a concurrent test's
    /// spawn may hold a copy of any descriptor for the instant before its exec.)
    @Test func lockPassedToTheChildOutlivesOurCopy() throws {
        let path = Self.lockPath()
        defer { unlink(path) }
        let ours = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(ours >= 0 && flock(ours, LOCK_EX) == 0)
        let out = try ChildProcess.run("/bin/sh", arguments: ["-c", "sleep 2 </dev/null >/dev/null 2>&1 &"], passing: ours)
        #expect(out.succeeded)
        close(ours)
        usleep(300_000)

        let other = open(path, O_RDWR | O_CLOEXEC)
        #expect(other >= 0)
        defer { close(other) }
        #expect(flock(other, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK, "the holder's fd 3 keeps the lock")
        #expect(flock(other, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK, "a shared taker waits too")
        #expect(Self.waitsFor(other, atMost: 500), "the lock is free once the holder exited")
    }

    @Test func withoutPassingTheLockDiesWithOurCopy() throws {
        let path = Self.lockPath()
        defer { unlink(path) }
        let ours = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(ours >= 0 && flock(ours, LOCK_EX) == 0)
        _ = try ChildProcess.run("/bin/sh", arguments: ["-c", "sleep 2 </dev/null >/dev/null 2>&1 &"])
        close(ours)
        let other = open(path, O_RDWR | O_CLOEXEC)
        defer { close(other) }
        #expect(Self.waitsFor(other, atMost: 30), "free at once (well before the child's 2 s)")
    }

    private static func lockPath() -> String {
        "/tmp/swift-cni-childlock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Whether an exclusive flock on `fd` is had within `tries` × 10 ms.
    private static func waitsFor(_ fd: Int32, atMost tries: Int) -> Bool {
        for _ in 0..<tries {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            usleep(10_000)
        }
        return false
    }
}
