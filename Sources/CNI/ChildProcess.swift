import CMnl
import Glibc

/// How a child process ended.
package enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    package var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// What a finished child process left behind.
package struct ChildProcessOutput: Sendable {
    package let termination: Termination
    package let stdout: [UInt8]
    package let stderr: [UInt8]

    package var succeeded: Bool { termination == .exited(0) }
}

/// Runs a program to completion with posix_spawn and pipes.
///
/// Plugins may only link FoundationEssentials, which has no `Process`; this is the one place
/// that starts programs (IPAM delegates, `nft`). The child gets exactly three descriptors —
/// the pipes on 0, 1 and 2 — plus, when asked, one more on 3 (`passing`), and default signal
/// dispositions, whatever the caller has open or ignored. Input and output are pumped together with `poll`, so a child that writes a lot
/// before reading all of its input cannot deadlock against us.
package enum ChildProcess {
    /// Runs `executable` (a path; no PATH search) with `arguments` (argv without argv[0],
    /// which is the path) and exactly `environment` ("K=V"), feeds it `stdin`, and waits.
    /// A non-zero exit is a result, not an error: only failing to run the program throws.
    ///
    /// `passing` is a descriptor the child gets as its fd 3, sharing the open file description:
    /// an flock held through it stays held until the child (and whatever inherits its fd 3)
    /// has exited, even when this process dies first (see `NftablesLock`).
    package static func run(
        _ executable: String, arguments: [String] = [], environment: [String] = [], stdin: [UInt8] = [],
        passing descriptor: Int32? = nil
    ) throws -> ChildProcessOutput {
        for text in [executable] + arguments + environment where text.utf8.contains(0) {
            throw PluginError(.io, "cannot run \(executable)", details: "an argument contains a NUL byte")
        }
        var pipes: [(read: Int32, write: Int32)] = []
        do {
            for _ in 0..<3 { pipes.append(try makePipe()) }
        } catch {
            for pipe in pipes { close(pipe.read); close(pipe.write) }
            throw error
        }
        let (input, output, errors) = (pipes[0], pipes[1], pipes[2])
        var stdinFD = input.write, stdoutFD = output.read, stderrFD = errors.read
        let childEnds = [input.read, output.write, errors.write]
        defer { for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) } }

        // A copy above 3, so neither the dup2s onto 0-2 nor the one onto 3 can clobber it in
        // the child, whatever number the caller's descriptor has; close-on-exec like the rest.
        var extra: Int32 = -1
        if let descriptor {
            extra = fcntl(descriptor, F_DUPFD_CLOEXEC, 4)
            guard extra >= 0 else {
                let err = errno
                for fd in childEnds { close(fd) }
                throw PluginError(.io, "cannot run \(executable)", details: "cannot pass descriptor \(descriptor): \(errorText(err))")
            }
        }
        let spawned = spawn(executable, arguments, environment, stdio: childEnds, extra: extra)
        for fd in childEnds + (extra >= 0 ? [extra] : []) { close(fd) }
        let pid = try spawned.get()

        let streams: ([UInt8], [UInt8])
        do {
            streams = try exchange(stdin, writeTo: &stdinFD, readFrom: &stdoutFD, and: &stderrFD)
        } catch {
            kill(pid, SIGKILL)
            _ = try? wait(for: pid, executable)
            throw error
        }
        return ChildProcessOutput(termination: try wait(for: pid, executable), stdout: streams.0, stderr: streams.1)
    }

    /// The first executable file called `name` in the colon-separated `searchPath`, else `fallback`.
    package static func locate(_ name: String, searchPath: String?, fallback: String? = nil) -> String? {
        for dir in (searchPath ?? "").split(separator: ":") where !dir.isEmpty {
            let candidate = dir.hasSuffix("/") ? "\(dir)\(name)" : "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return fallback.flatMap { access($0, X_OK) == 0 ? $0 : nil }
    }

    // MARK: - Spawning

    private static func spawn(
        _ executable: String, _ arguments: [String], _ environment: [String], stdio: [Int32], extra: Int32
    ) -> Result<pid_t, PluginError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, fd) in stdio.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
        }
        if extra >= 0 { posix_spawn_file_actions_adddup2(&actions, extra, 3) }
        // Descriptors the caller opened without O_CLOEXEC (netlink sockets, inherited fds)
        // must not reach the child either.
        _ = cmnl_spawn_add_closefrom(&actions, extra >= 0 ? 4 : 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid = pid_t()
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { return .failure(PluginError(.io, "cannot run \(executable)", details: errorText(rc))) }
        return .success(pid)
    }

    /// A pipe whose ends are close-on-exec and above the stdio numbers, so the dup2 onto
    /// 0/1/2 in the child can never clobber another pipe end.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let rc = cmnl_pipe2(&fds, O_CLOEXEC)
        guard rc == 0 else { throw PluginError(.io, "cannot create a pipe", details: errorText(errno)) }
        for i in fds.indices where fds[i] < 3 {
            let moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)
            let err = errno
            close(fds[i])
            fds[i] = moved
            guard moved >= 0 else {
                for fd in fds where fd >= 0 { close(fd) }
                throw PluginError(.io, "cannot create a pipe", details: errorText(err))
            }
        }
        return (fds[0], fds[1])
    }

    private static func wait(for pid: pid_t, _ executable: String) throws -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw PluginError(.io, "cannot wait for \(executable)", details: errorText(errno))
            }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    // MARK: - Pumping the pipes

    /// Writes `input` to `writeFD` while draining both readers until they reach EOF. Each
    /// descriptor is closed (and set to -1) as soon as it is done.
    private static func exchange(
        _ input: [UInt8], writeTo writeFD: inout Int32, readFrom outFD: inout Int32, and errFD: inout Int32
    ) throws -> ([UInt8], [UInt8]) {
        var written = 0
        var collected: [[UInt8]] = [[], []]
        if input.isEmpty {
            close(writeFD)
            writeFD = -1
        } else {
            _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        }
        let restoreSignals = input.isEmpty ? {} : blockBrokenPipeSignal()
        defer { restoreSignals() }

        var chunk = [UInt8](repeating: 0, count: 65536)
        while writeFD >= 0 || outFD >= 0 || errFD >= 0 {
            var polled = [
                pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: outFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errFD, events: Int16(POLLIN), revents: 0),
            ]
            // poll ignores negative descriptors, so finished streams simply drop out.
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 else {
                if errno == EINTR { continue }
                throw PluginError(.io, "cannot poll child pipes", details: errorText(errno))
            }
            if polled[0].revents != 0 {
                let n = input.withUnsafeBytes { write(writeFD, $0.baseAddress! + written, $0.count - written) }
                if n >= 0 {
                    written += n
                } else if errno == EPIPE {
                    written = input.count  // The child stopped reading; its exit status tells why.
                } else if errno != EAGAIN && errno != EINTR {
                    throw PluginError(.io, "cannot write to child stdin", details: errorText(errno))
                }
                if written == input.count {
                    close(writeFD)
                    writeFD = -1
                }
            }
            for (i, fd) in [outFD, errFD].enumerated() where polled[i + 1].revents != 0 {
                let n = read(fd, &chunk, chunk.count)
                if n > 0 {
                    collected[i].append(contentsOf: chunk[0..<n])
                } else if n == 0 {
                    close(fd)
                    if i == 0 { outFD = -1 } else { errFD = -1 }
                } else if errno != EAGAIN && errno != EINTR {
                    throw PluginError(.io, "cannot read child output", details: errorText(errno))
                }
            }
        }
        return (collected[0], collected[1])
    }

    /// Writing to a pipe whose reader exited raises SIGPIPE, which would kill the plugin.
    /// Blocks it for this thread only (it is thread-directed) and returns the undo, which also
    /// discards a SIGPIPE we caused — but not one that was already pending.
    private static func blockBrokenPipeSignal() -> () -> Void {
        var pipeOnly = sigset_t(), previous = sigset_t(), pending = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        sigpending(&pending)
        let wasPending = sigismember(&pending, SIGPIPE) == 1
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        return {
            var pending = sigset_t()
            sigpending(&pending)
            if !wasPending && sigismember(&pending, SIGPIPE) == 1 {
                var noWait = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeOnly, nil, &noWait)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
    }
}

private func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

