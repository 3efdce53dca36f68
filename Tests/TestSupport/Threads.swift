import Glibc

/// Runs `body(0..<count)` on `count` OS threads at once and waits for all.
///
/// Plain pthreads rather than Swift concurrency: the point is real parallel callers (IPAM
/// allocators each with its own lock descriptor, agents each with its own registry), as
/// separate processes would be.
public func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Job: @unchecked Sendable {
        let index: Int
        let body: @Sendable (Int) -> Void
        init(_ index: Int, _ body: @escaping @Sendable (Int) -> Void) { self.index = index; self.body = body }
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        let job = Unmanaged.passRetained(Job(i, body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            job.body(job.index)
            return nil
        }, job)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// Results written from several threads, one slot each.
public final class Slots<T>: @unchecked Sendable {
    private var values: [T?]
    private var mutex = pthread_mutex_t()

    public init(_ count: Int) {
        values = Array(repeating: nil, count: count)
        pthread_mutex_init(&mutex, nil)
    }

    public subscript(index: Int) -> T? {
        get { pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }; return values[index] }
        set { pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }; values[index] = newValue }
    }

    public var all: [T?] { (0..<values.count).map { self[$0] } }
}
