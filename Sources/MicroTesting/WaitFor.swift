/// Checks `condition` every `interval` until it holds, throwing ``TimeLimitExceeded``
/// (naming `what`) if it still does not hold after `timeout`.
///
/// Use it instead of sleeping and then asserting: the test goes on as soon as the
/// condition holds, and waits as long as the behaviour may need on a loaded machine.
/// An error thrown by `condition` counts as "not yet" (a server may still be starting);
/// the last one is named in the timeout error. Cancellation ends the wait at once.
///
/// ```swift
/// try await waitFor("the node to expire", timeout: .seconds(8)) {
///     try await registry.getService("greeter").isEmpty
/// }
/// ```
///
/// - Throws: ``TimeLimitExceeded`` on timeout; `CancellationError` when cancelled.
public func waitFor(
    _ what: String, timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(50),
    file: StaticString = #filePath, line: UInt = #line,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var lastError: (any Error)?
    while true {
        try Task.checkCancellation()
        do {
            if try await condition() { return }
            lastError = nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            lastError = error
        }
        if clock.now >= deadline {
            throw TimeLimitExceeded(what: what, limit: timeout, detail: lastError.map { "the last check threw \($0)" }, file: file, line: line)
        }
        try await Task.sleep(for: interval)
    }
}
