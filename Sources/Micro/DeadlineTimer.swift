import Synchronization

/// Runs actions at deadlines, for many short-lived deadlines that are mostly cancelled.
///
/// One sleeping task serves every deadline: it wakes at the earliest one, runs what is
/// due, and sleeps until the next. Scheduling and cancelling take a lock and a dictionary
/// operation; a cancelled action is released at once. A new sleeper starts only when a
/// deadline comes earlier than the current wake-up, which is rare when every call has the
/// same timeout.
///
/// Actions run under the timer's lock, so once ``cancel(_:)`` returns the action will not
/// run: they must be short and must not schedule or cancel on this timer.
final class DeadlineTimer: Sendable {
    /// The process-wide timer.
    static let shared = DeadlineTimer()

    /// A scheduled action, for ``cancel(_:)``.
    struct Token: Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var action: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        /// When the current sleeper wakes; `nil` when none sleeps.
        var wake: ContinuousClock.Instant?
        /// The current sleeper's number; older sleepers wake to find themselves replaced.
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Runs `action` at `deadline` unless cancelled first.
    func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Token {
        let (id, sleeper) = state.withLock { state -> (UInt64, UInt64?) in
            state.nextID &+= 1
            state.entries[state.nextID] = Entry(deadline: deadline, action: action)
            guard state.wake.map({ deadline < $0 }) ?? true else { return (state.nextID, nil) }
            state.wake = deadline
            state.generation &+= 1
            return (state.nextID, state.generation)
        }
        if let sleeper { sleep(until: deadline, generation: sleeper) }
        return Token(id: id)
    }

    /// Drops a scheduled action; nothing happens if it already ran.
    func cancel(_ token: Token) {
        _ = state.withLock { $0.entries.removeValue(forKey: token.id) }
    }

    private func sleep(until deadline: ContinuousClock.Instant, generation: UInt64) {
        Task.detached {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.fire(generation: generation)
        }
    }

    /// Runs the due actions and starts the next sleeper.
    private func fire(generation: UInt64) {
        let now = ContinuousClock.now
        let next = state.withLock { state -> (ContinuousClock.Instant, UInt64)? in
            guard state.generation == generation else { return nil }
            var earliest: ContinuousClock.Instant?
            for (id, entry) in state.entries {
                if entry.deadline <= now {
                    // Under the lock, so that after `cancel(_:)` returns an action never
                    // runs.
                    entry.action()
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
