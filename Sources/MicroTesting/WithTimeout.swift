import Synchronization

/// Runs `operation`, throwing ``TimeLimitExceeded`` (naming `what`) if it has not
/// finished after `timeout`.
///
/// The operation runs in a task of its own and is cancelled on timeout; the caller is
/// never held by an operation that ignores cancellation. Cancelling the caller cancels
/// the operation and throws `CancellationError` at once.
///
/// ```swift
/// try await withTimeout(.seconds(5), "serve() to return") { try await serving.value }
/// ```
///
/// - Parameters:
///   - timeout: the time limit.
///   - what: what is awaited, for the error message.
///   - operation: the work; its result or error is passed through.
/// - Returns: what `operation` returned.
/// - Throws: ``TimeLimitExceeded`` on timeout, `CancellationError` when the calling task
///   is cancelled, otherwise whatever `operation` threw.
public func withTimeout<T: Sendable>(
    _ timeout: Duration, _ what: String = "the operation",
    file: StaticString = #filePath, line: UInt = #line,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            once.install(continuation)
            once.track(Task {
                do {
                    once.resume(.success(try await operation()))
                } catch {
                    once.resume(.failure(error))
                }
            })
            once.track(Task {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return }
                once.resume(.failure(TimeLimitExceeded(what: what, limit: timeout, file: file, line: line)))
            })
        }
    } onCancel: {
        once.resume(.failure(CancellationError()))
    }
}

/// Resumes a continuation once, from whichever side gets there first, and cancels the
/// tasks racing for it.
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
        var done = false
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let pending = state.withLock { state -> Result<T, any Error>? in
            if let pending = state.pending { return pending }
            state.continuation = continuation
            return nil
        }
        if let pending { continuation.resume(with: pending) }
    }

    func track(_ task: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.tasks.append(task)
            return false
        }
        if cancelNow { task.cancel() }
    }

    func resume(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard !state.done else { return (nil, []) }
            state.done = true
            defer {
                state.continuation = nil
                state.tasks = []
            }
            if state.continuation == nil { state.pending = result }
            return (state.continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}
