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
}
