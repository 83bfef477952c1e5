public import MicroCore
import Synchronization

/// Reads an event stream (a registry watch, a broker subscription) in a task of its own
/// and keeps every event with the time it arrived, so that a test can wait for an event
/// with a time limit, check the order of what arrived, and never hang on the stream.
///
/// ```swift
/// let recorder = WatchRecorder(try await registry.watch(service: name))
/// defer { recorder.cancel() }
/// try await registry.register(service)
/// let created = try #require(try await recorder.wait { $0.action == .create })
/// ```
///
/// The reading task ends when the stream ends, on ``cancel()``, or when the recorder is
/// released.
public final class EventRecorder<Element: Sendable>: Sendable {
    /// One recorded event.
    public struct Arrival: Sendable {
        /// Its position among the recorded events, from 0.
        public let index: Int
        /// The event.
        public let event: Element
        /// When the reading task received it.
        public let at: ContinuousClock.Instant
    }

    private struct State {
        var arrivals: [Arrival] = []
        var finished = false
        var error: (any Error)?
    }

    private let state: MutexBox<State>
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading `sequence`.
    public init<Events: AsyncSequence & Sendable>(_ sequence: Events) where Events.Element == Element {
        let state = MutexBox(State())
        self.state = state
        let reader = Task {
            do {
                for try await event in sequence {
                    let now = ContinuousClock.now
                    state.withLock { $0.arrivals.append(Arrival(index: $0.arrivals.count, event: event, at: now)) }
                }
                state.withLock { $0.finished = true }
            } catch {
                state.withLock {
                    $0.finished = true
                    $0.error = error
                }
            }
        }
        task.withLock { $0 = reader }
    }

    /// The events so far, oldest first.
    public var events: [Element] { state.withLock { $0.arrivals.map(\.event) } }

    /// The events so far with their arrival times, oldest first.
    public var arrivals: [Arrival] { state.withLock { $0.arrivals } }

    /// Whether the reading task has ended (the stream ended or threw, or it was cancelled).
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// The error the stream ended with, if it threw.
    public var error: (any Error)? { state.withLock { $0.error } }

    /// The first event at or after position `start` that matches `predicate`, waiting up
    /// to `timeout` for it; `nil` when none arrived in time or the stream ended first.
    public func wait(
        from start: Int = 0, timeout: Duration = .seconds(5), _ predicate: (Element) -> Bool
    ) async throws -> Arrival? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let (arrivals, finished) = state.withLock { ($0.arrivals, $0.finished) }
            if start < arrivals.count, let match = arrivals[start...].first(where: { predicate($0.event) }) {
                return match
            }
            if finished || clock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until `condition` holds for the events so far and returns them.
    ///
    /// - Throws: ``TimeLimitExceeded`` listing every event seen when `condition` does
    ///   not hold within `timeout` or the stream ends first; `CancellationError` when
    ///   cancelled.
    ///
    /// - Parameter describe: how an event is written in the failure's list of what was
    ///   seen; its `description` by default.
    @discardableResult
    public func waitUntil(
        _ what: String, timeout: Duration = .seconds(5), describe: (Element) -> String = { "\($0)" },
        file: StaticString = #filePath, line: UInt = #line,
        _ condition: ([Element]) -> Bool
    ) async throws -> [Element] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let (events, finished, error) = state.withLock { ($0.arrivals.map(\.event), $0.finished, $0.error) }
            if condition(events) { return events }
            if finished || clock.now >= deadline {
                let seen = events.isEmpty ? "nothing" : events.map(describe).joined(separator: "; ")
                let ended = finished ? "the stream ended\(error.map { " with \($0)" } ?? ""); " : ""
                throw TimeLimitExceeded(what: what, limit: timeout, detail: "\(ended)saw \(seen)", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Cancels the reading task, as a consumer that goes away would.
    public func cancel() {
        task.withLock { $0?.cancel() }
    }

    /// Waits up to `timeout` for the reading task to end; returns whether it did.
    public func waitFinished(timeout: Duration = .seconds(2)) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !isFinished {
            if clock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    deinit {
        task.withLock { $0?.cancel() }
    }
}

/// An ``EventRecorder`` of a registry watch.
public typealias WatchRecorder = EventRecorder<RegistryEvent>
