import CoreMetrics

/// Told every value a metric is given, after the registry has it: how a test checks what
/// else was already published at that moment (AgentStatus's order). Nil in the daemon.
typealias MetricObserver = @Sendable (_ name: String, _ labels: [(String, String)], _ value: Double) -> Void

/// One metric's name and labels with the observer to tell its values.
struct MetricTap: Sendable {
    let name: String
    let labels: [(String, String)]
    let observer: MetricObserver

    func tell(_ value: Double) { observer(name, labels, value) }
}

/// A gauge handler that passes each value on to the registry's, then to the observer.
final class ObservedMeterHandler: MeterHandler {
    let inner: any MeterHandler
    let tap: MetricTap

    init(_ inner: any MeterHandler, tap: MetricTap) { (self.inner, self.tap) = (inner, tap) }

    func set(_ value: Int64) { inner.set(value); tap.tell(Double(value)) }
    func set(_ value: Double) { inner.set(value); tap.tell(value) }
    func increment(by amount: Double) { inner.increment(by: amount); tap.tell(amount) }
    func decrement(by amount: Double) { inner.decrement(by: amount); tap.tell(-amount) }
}

/// A counter handler that passes each increment on, then tells the observer its size.
final class ObservedCounterHandler: CounterHandler {
    let inner: any CounterHandler
    let tap: MetricTap

    init(_ inner: any CounterHandler, tap: MetricTap) { (self.inner, self.tap) = (inner, tap) }

    func increment(by amount: Int64) { inner.increment(by: amount); tap.tell(Double(amount)) }
    func reset() { inner.reset() }
}
