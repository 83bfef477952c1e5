import Dispatch
import MicroCore
import Synchronization

/// Runs `body` until it finishes or `deadline` passes, whichever is first.
///
/// At the deadline `body`'s task is cancelled and `timeout` is thrown; the function
/// returns once `body` has observed the cancellation. The error is only built when the
/// deadline passes.
///
/// `body` runs in a task of its own (inheriting task-locals and priority), watched by a
/// Dispatch timer: no second task sleeps until the deadline and no task group waits for
/// one, which kept two extra tasks and their wake-ups on every call.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    timeout: @autoclosure @escaping @Sendable () -> MicroError,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let remaining = deadline - .now
    guard remaining > .zero else { throw timeout() }
    let task = Task(operation: body)
    let expired = DeadlineFlag()
    let timer = DispatchWorkItem {
        expired.set()
        task.cancel()
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: remaining.nanoseconds)), execute: timer)
    let result = await withTaskCancellationHandler {
        await task.result
    } onCancel: {
        task.cancel()
    }
    timer.cancel()
    if expired.isSet { throw timeout() }
    return try result.get()
}

/// Set once by the deadline timer of ``withDeadline(_:timeout:_:)``.
private final class DeadlineFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
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
