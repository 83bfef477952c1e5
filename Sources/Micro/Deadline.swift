import MicroCore

/// Runs `body` until it finishes or `deadline` passes, whichever is first.
///
/// At the deadline `body`'s task is cancelled and `timeout` is thrown; the function
/// returns once `body` has observed the cancellation.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    timeout: MicroError,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard deadline > .now else { throw timeout }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask(operation: body)
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            throw timeout
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw timeout }
        return first
    }
}

/// A readable form of a duration for error messages: `250ms`, `5s`, `1.5s`.
func describe(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    if milliseconds < 1000 { return "\(milliseconds)ms" }
    if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
    return "\(Double(milliseconds) / 1000)s"
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
