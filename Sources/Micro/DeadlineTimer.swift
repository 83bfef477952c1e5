import MicroCore
import Synchronization

/// Cancels tasks at deadlines, for many short-lived deadlines that are mostly withdrawn
/// before they pass.
///
/// One sleeping task serves every deadline: it wakes at the earliest one, cancels the
/// tasks that are due, and sleeps until the next. Scheduling and withdrawing take a lock
/// and a dictionary operation, and allocate nothing beyond the dictionary's storage. A
/// new sleeper starts only when a deadline comes earlier than the current wake-up, which
/// is rare when every call has the same timeout.
///
/// Tasks are cancelled under the timer's lock, so once ``cancel(_:)`` returns the task
/// will not be cancelled by this timer.
final class DeadlineTimer: Sendable {
    /// The process-wide timer.
    static let shared = DeadlineTimer()

    /// A scheduled cancellation, for ``cancel(_:)``.
    struct Token: Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry: @unchecked Sendable {
        // @unchecked Sendable: `UnsafeCurrentTask` may be used from other threads only
        // while its task runs; every entry is removed, by ``cancel(_:)`` or by firing,
        // under the timer's lock before the task that scheduled it goes on (see
        // `RPCServer.run`).
        var deadline: ContinuousTime
        var task: UnsafeCurrentTask
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        /// When the current sleeper wakes; `nil` when none sleeps.
        var wake: ContinuousTime?
        /// The current sleeper's number; older sleepers wake to find themselves replaced.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Cancels `task` at `deadline` unless ``cancel(_:)`` comes first.
    ///
    /// The caller must call ``cancel(_:)`` with the token before `task` ends.
    func schedule(cancelling task: UnsafeCurrentTask, at deadline: ContinuousTime) -> Token {
        let (id, sleeper) = state.withLock { state -> (UInt64, UInt64?) in
            state.nextID &+= 1
            state.entries[state.nextID] = Entry(deadline: deadline, task: task)
            guard state.wake.map({ deadline < $0 }) ?? true else { return (state.nextID, nil) }
            state.wake = deadline
            state.generation &+= 1
            return (state.nextID, state.generation)
        }
        if let sleeper { sleep(until: deadline, generation: sleeper) }
        return Token(id: id)
    }

    /// Withdraws a scheduled cancellation; returns `true` when it came too late, the
    /// deadline having passed and the task been cancelled.
    func cancel(_ token: Token) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: token.id) } == nil
    }

    private func sleep(until deadline: ContinuousTime, generation: UInt64) {
        Task.detached {
            try? await Task.sleep(until: deadline.instant, clock: .continuous)
            self.fire(generation: generation)
        }
    }

    /// Cancels the due tasks and starts the next sleeper.
    private func fire(generation: UInt64) {
        let now = ContinuousTime.now
        let next = state.withLock { state -> (ContinuousTime, UInt64)? in
            guard state.generation == generation else { return nil }
            var earliest: ContinuousTime?
            for (id, entry) in state.entries {
                if entry.deadline <= now {
                    // Under the lock: the task has not yet withdrawn the entry, so it is
                    // still running.
                    entry.task.cancel()
                    state.entries[id] = nil
                } else if earliest.map({ entry.deadline < $0 }) ?? true {
                    earliest = entry.deadline
                }
            }
            state.wake = earliest
            guard let earliest else { return nil }
            state.generation &+= 1
            return (earliest, state.generation)
        }
        if let (deadline, generation) = next { sleep(until: deadline, generation: generation) }
    }
}
