import Synchronization

/// Throws a ``ConformanceFailure`` with `message` unless `condition` holds.
func expect(
    _ condition: Bool, _ message: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    if !condition { throw ConformanceFailure(message(), file: file, line: line) }
}

/// Throws a ``ConformanceFailure`` saying what was expected and what was seen.
func expectEqual<T: Equatable>(
    _ seen: T, _ expected: T, _ what: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    if seen != expected {
        throw ConformanceFailure("\(what()): expected \(expected), saw \(seen)", file: file, line: line)
    }
}

/// Reads an event stream in the background and keeps what arrived, so a check can wait
/// for an event with a timeout and report everything it saw.
final class EventCollector<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var ended = false
        var error: (any Error)?
    }

    private let state = MutexBox(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading `sequence`.
    init<Sequence: AsyncSequence & Sendable>(_ sequence: Sequence) where Sequence.Element == Element {
        let reader = Task { [state] in
            do {
                for try await item in sequence {
                    state.withLock { $0.items.append(item) }
                }
                state.withLock { $0.ended = true }
            } catch {
                state.withLock {
                    $0.ended = true
                    $0.error = error
                }
            }
        }
        task.withLock { $0 = reader }
    }

    /// What arrived so far.
    var items: [Element] {
        state.withLock { $0.items }
    }

    /// Whether the reading loop has ended.
    var hasEnded: Bool {
        state.withLock { $0.ended }
    }

    /// Cancels the reading task (the consumer goes away).
    func cancel() {
        task.withLock { $0?.cancel() }
    }

    /// Waits until `done` holds for what arrived, or fails after `timeout` saying
    /// `what` was expected and listing what was seen.
    @discardableResult
    func wait(
        for what: String, timeout: Duration, describe: (Element) -> String,
        file: StaticString = #filePath, line: UInt = #line,
        until done: ([Element]) -> Bool
    ) async throws -> [Element] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let (items, ended, error) = state.withLock { ($0.items, $0.ended, $0.error) }
            if done(items) { return items }
            if ended || clock.now >= deadline {
                let seen = items.isEmpty ? "nothing" : items.map(describe).joined(separator: "; ")
                let why = ended ? "the stream ended\(error.map { " with \($0)" } ?? "")" : "timed out after \(timeout)"
                throw ConformanceFailure("expected \(what); \(why); saw \(seen)", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the reading task has ended, or fails after `timeout`.
    func waitForEnd(timeout: Duration, what: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !hasEnded {
            if clock.now >= deadline {
                throw ConformanceFailure("expected \(what) within \(timeout), but the iterating task is still running", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    deinit {
        task.withLock { $0?.cancel() }
    }
}

/// Runs a case body, naming the case in any failure and turning other errors into
/// failures that say where they came from.
func runCase(_ suite: String, _ name: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as ConformanceFailure {
        throw failure.prefixed("\(suite).\(name): ")
    } catch let timeout as TimeLimitExceeded {
        throw ConformanceFailure("\(suite).\(name): \(timeout.message)", file: timeout.file, line: timeout.line)
    } catch is CancellationError {
        throw CancellationError()
    } catch {
        throw ConformanceFailure("\(suite).\(name): unexpected error \(type(of: error)): \(error)")
    }
}
