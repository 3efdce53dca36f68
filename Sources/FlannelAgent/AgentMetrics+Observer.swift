import CoreMetrics

/// Told every value a metric is given, after the registry has it: how a test checks what
/// else was already published at that moment (AgentStatus's order). Nil in the daemon.
typealias MetricObserver = @Sendable (_ name: String, _ labels: [(String, String)], _ value: Double) -> Void

/// A gauge handler that passes each value on to the registry's, then to the observer.
final class ObservedMeterHandler: MeterHandler {
    let inner: any MeterHandler
    let name: String
    let labels: [(String, String)]
    let observer: MetricObserver

    init(_ inner: any MeterHandler, name: String, labels: [(String, String)], observer: @escaping MetricObserver) {
        self.inner = inner
        self.name = name
        self.labels = labels
        self.observer = observer
    }

    func set(_ value: Int64) { inner.set(value); observer(name, labels, Double(value)) }
    func set(_ value: Double) { inner.set(value); observer(name, labels, value) }
    func increment(by amount: Double) { inner.increment(by: amount); observer(name, labels, amount) }
    func decrement(by amount: Double) { inner.decrement(by: amount); observer(name, labels, -amount) }
}

/// A counter handler that passes each increment on, then tells the observer its size.
final class ObservedCounterHandler: CounterHandler {
    let inner: any CounterHandler
    let name: String
    let labels: [(String, String)]
    let observer: MetricObserver

    init(_ inner: any CounterHandler, name: String, labels: [(String, String)], observer: @escaping MetricObserver) {
        self.inner = inner
        self.name = name
        self.labels = labels
        self.observer = observer
    }

    func increment(by amount: Int64) { inner.increment(by: amount); observer(name, labels, Double(amount)) }
    func reset() { inner.reset() }
}
