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
