import MicroCore

/// Runs `body` until it finishes or `deadline` passes, whichever is first.
///
/// At the deadline `body`'s task is cancelled and `timeout` is thrown; the function
/// returns once `body` has observed the cancellation. The error is only built when the
/// deadline passes.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    timeout: @autoclosure @escaping @Sendable () -> MicroError,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard deadline > .now else { throw timeout() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask(operation: body)
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            throw timeout()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw timeout() }
        return first
    }
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
