import Glibc

/// What an attacker or a careless operator can leave where a plugin expects its own files,
/// and a way to call a plugin that might block on one without hanging the suite.

/// A FIFO at `path` (mode 0644).
public func plantFIFO(_ path: String) -> Bool { mkfifo(path, 0o644) == 0 }

/// A bound unix socket at `path` (the socket itself is closed again: the entry stays).
public func plantSocket(_ path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
        raw[bytes.count] = 0
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
}

/// A character device node like /dev/zero (1, 5) at `path`: needs root (CAP_MKNOD).
public func plantZeroDevice(_ path: String) -> Bool {
    // glibc's makedev(1, 5) (a macro, not imported): minor in the low byte, major above it.
    mknod(path, S_IFCHR | 0o644, dev_t(1 << 8 | 5)) == 0
}

/// The file type (`S_IFREG`, `S_IFLNK`...) of the entry at `path` itself; nil when none.
public func fileType(_ path: String) -> mode_t? {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
}

/// A regular file of `size` bytes (sparse: zeros, no disk used).
public func plantLargeFile(_ path: String, size: Int) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return ftruncate(fd, off_t(size)) == 0
}

/// Runs `body` on its own thread and returns its result, or nil when it did not return
/// within `seconds`.
///
/// When it did not (a regression that blocks in `open` on a FIFO), each of `fifos` is opened
/// at both ends without blocking, which releases a reader or writer stuck in `open` (it then
/// sees end of file, or EPIPE: SIGPIPE is ignored from then on), until the thread returns:
/// the test fails instead of hanging the suite. A thread still stuck after 30 s more is
/// left behind (detached).
public func resultWithin<T: Sendable>(_ seconds: Double, unblocking fifos: [String] = [], _ body: @escaping @Sendable () -> T) -> T? {
    let job = DeadlineJob(body)
    var thread = pthread_t()
    // A C function pointer cannot capture the generic type: the thread sees the base class.
    let rc = pthread_create(&thread, nil, { raw in
        Unmanaged<DeadlineJobBase>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, Unmanaged<DeadlineJobBase>.passRetained(job).toOpaque())
    precondition(rc == 0, "pthread_create failed: \(rc)")
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    func elapsed() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) / 1e9
    }
    while !job.isDone && elapsed() < seconds { usleep(5_000) }
    let inTime = job.isDone
    if !inTime { signal(SIGPIPE, SIG_IGN) }
    // Release a blocked caller until it has returned (it may block on the next FIFO).
    while !job.isDone && elapsed() < seconds + 30 {
        for fifo in fifos {
            for flags in [O_WRONLY | O_NONBLOCK, O_RDONLY | O_NONBLOCK] {
                let fd = open(fifo, flags | O_CLOEXEC)
                if fd >= 0 { close(fd) }
            }
        }
        usleep(10_000)
    }
    if job.isDone { pthread_join(thread, nil) } else { pthread_detach(thread) }
    return inTime ? job.value : nil
}

private class DeadlineJobBase: @unchecked Sendable {
    func run() {}
}

/// `resultWithin`'s call and its result, shared with the thread under a mutex.
private final class DeadlineJob<T: Sendable>: DeadlineJobBase, @unchecked Sendable {
    let body: @Sendable () -> T
    private var result: T?
    private var finished = false
    private var mutex = pthread_mutex_t()

    init(_ body: @escaping @Sendable () -> T) {
        self.body = body
        super.init()
        pthread_mutex_init(&mutex, nil)
    }

    override func run() {
        let value = body()
        pthread_mutex_lock(&mutex); result = value; finished = true; pthread_mutex_unlock(&mutex)
    }

    var value: T? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return result
    }

    var isDone: Bool {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return finished
    }
}

/// The path of the executable product `name` built next to the running test bundle
/// (`.build/<triple>/<configuration>/`).
public func builtProduct(_ name: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    guard let slash = exe.lastIndex(of: "/") else { return name }
    return String(exe[..<slash]) + "/" + name
}

/// `/bin/sh` arguments that run `executable` with its address space capped at
/// `memoryMiB` and killed after `seconds`: a regression that reads /dev/zero into memory
/// dies on the cap (fails the test) instead of taking the machine's memory.
public func cappedCommand(_ executable: String, memoryMiB: Int, seconds: Int) -> [String] {
    ["-c", "ulimit -v \(memoryMiB * 1024) && exec timeout -s KILL \(seconds) \"$0\"", executable]
}
