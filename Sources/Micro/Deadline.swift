import MicroCore
import Synchronization

/// Runs `body` until it finishes or `deadline` passes, whichever is first.
///
/// At the deadline `body`'s task is cancelled and `timeout` is thrown; the function
/// returns once `body` has observed the cancellation. The error is only built when the
/// deadline passes.
///
/// `body` runs in a task of its own (inheriting task-locals and priority), watched by the
/// shared ``DeadlineTimer``: no second task sleeps until each deadline and no task group
/// waits for one.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    timeout: @autoclosure @escaping @Sendable () -> MicroError,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard deadline > .now else { throw timeout() }
    let task = Task(operation: body)
    let expired = Atomic<Bool>(false)
    let timer = DeadlineTimer.shared.schedule(at: deadline) {
        expired.store(true, ordering: .releasing)
        task.cancel()
    }
    let result = await withTaskCancellationHandler {
        await task.result
    } onCancel: {
        task.cancel()
    }
    DeadlineTimer.shared.cancel(timer)
    if expired.load(ordering: .acquiring) { throw timeout() }
    return try result.get()
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
