import Synchronization

/// Set once when the daemon is asked to stop (graceful shutdown on SIGTERM/SIGINT); the
/// agent loop polls it between its bounded waits, so it stops within about a second
/// without being interrupted halfway through programming the dataplane.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    func raise() { raised.store(true, ordering: .relaxed) }

    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
