import MicroCore
import Synchronization

/// Runs `body` until it finishes or `deadline` passes, whichever is first.
///
/// At the deadline `body`'s task is cancelled and `timeout` is thrown; the function
/// returns once `body` has observed the cancellation. The error is only built when the
/// deadline passes.
///
/// `body` runs in a child task that the shared ``DeadlineTimer`` cancels at the deadline:
/// no second child sleeps until each deadline, so a call costs one child task and no
/// timer wake-up.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    timeout: @autoclosure @escaping @Sendable () -> MicroError,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard deadline > .now else { throw timeout() }
    let expired = DeadlineFlag()
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask {
            let task = CurrentTask()
            let timer = DeadlineTimer.shared.schedule(at: deadline) {
                expired.set()
                task.cancel()
            }
            // Once cancelled here the timer's action can no longer run, so the task it
            // cancels is alive whenever it does.
            defer { DeadlineTimer.shared.cancel(timer) }
            return try await body()
        }
        guard let result = await group.nextResult() else { throw timeout() }
        if expired.isSet { throw timeout() }
        return try result.get()
    }
}

/// The running task, to cancel from the deadline timer.
private struct CurrentTask: @unchecked Sendable {
    // @unchecked Sendable: `UnsafeCurrentTask` may be used from other threads only while
    // its task runs; ``withDeadline(_:timeout:_:)`` cancels the timer that holds it
    // before the task ends, and the timer runs actions under the lock that cancelling
    // takes.
    private let task: UnsafeCurrentTask?

    init() {
        task = withUnsafeCurrentTask { $0 }
    }

    func cancel() {
        task?.cancel()
    }
}

/// Set once by the deadline timer.
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
