import Logging
import ServiceLifecycle

/// The agent's main loop as a swift-service-lifecycle Service. The loop itself blocks in
/// syscalls, so it runs on a dedicated thread; `run()` only awaits that thread. Graceful
/// shutdown (SIGTERM/SIGINT through the ServiceGroup) raises the stop flag the loop polls
/// between its bounded waits.
struct AgentLoopService: Service {
    let agent: Agent
    let context: HandedToLoop<AgentContext>

    func run() async throws {
        let agent = self.agent
        let context = self.context
        try await withGracefulShutdownHandler {
            try await DedicatedThread.run(name: "flanneld-loop") { agent.runLoop(context: context.value) }
        } onGracefulShutdown: {
            agent.stop.raise()
        }
    }
}

/// Carries the start-up context (registry client, netlink socket: neither thread-safe) from
/// the task that built it to the loop thread. After the hand-off the loop thread is its only
/// user, which is what makes the unchecked Sendable sound.
final class HandedToLoop<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
