import MicroCore
import Synchronization

/// Runs `body` in the current task until it finishes or `deadline` passes, whichever is
/// first.
///
/// At the deadline the shared ``DeadlineTimer`` cancels the *current task*, and once
/// `body` has returned or thrown, `timeout` is thrown. The task stays cancelled, so this
/// is for a task that ends with the work, such as the task a ``MicroCore/TransportListener``
/// runs for each stream: no child task, task group or sleeping task is made per call. The
/// error is only built when the deadline passes.
func withDeadline<T>(
    _ deadline: ContinuousClock.Instant,
    timeout: @autoclosure () -> MicroError,
    _ body: () async throws -> T
) async throws -> T {
    guard deadline > .now else { throw timeout() }
    let expired = DeadlineFlag()
    let task = CurrentTask()
    let timer = DeadlineTimer.shared.schedule(at: deadline) {
        expired.set()
        task.cancel()
    }
    let result: Result<T, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    // Once cancelled here the timer's action can no longer run, so the task it cancels is
    // alive whenever it does.
    DeadlineTimer.shared.cancel(timer)
    if expired.isSet { throw timeout() }
    return try result.get()
}

/// The running task, to cancel from the deadline timer.
private struct CurrentTask: @unchecked Sendable {
    // @unchecked Sendable: `UnsafeCurrentTask` may be used from other threads only while
    // its task runs; ``withDeadline(_:timeout:_:)`` cancels the timer that holds it
    // before it returns, and the timer runs actions under the lock that cancelling takes.
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
