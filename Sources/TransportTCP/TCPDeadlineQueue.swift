import MicroCore
import NIOCore

/// The receives on one connection that wait with a deadline, earliest first, so that one
/// timer on the connection's event loop serves them all.
///
/// An event-loop timer per receive costs a heap insertion, a linear search of the heap to
/// cancel it, and, scheduled from another thread, a wake-up of the loop; yet most
/// receives are answered long before their deadline, and callers mostly give them the
/// same timeout, so the deadlines arrive in order. The queue keeps them sorted (an
/// append in the common case) and drops an answered receive by its token. The timer is
/// never cancelled: the connection arms a new one only for a deadline earlier than the
/// armed one, and when the armed one fires it arms the next for the earliest deadline
/// left. An older timer that fires later finds nothing due, or what is due anyway.
///
/// Entries name their stream by id, not by reference: they are plain values, so searching
/// and moving them retains nothing.
struct TCPDeadlineQueue {
    /// A receive waiting with a deadline.
    struct Entry {
        var token: UInt64
        var deadline: ContinuousTime
        var streamID: UInt32
        var waiterID: UInt64
    }

    /// Waiting receives, by deadline (equal deadlines in arrival order).
    private var entries: CircularBuffer<Entry> = CircularBuffer(initialCapacity: 4)
    private var lastToken: UInt64 = 0
    /// The deadline of the timer armed last, while it has not fired.
    private(set) var armedDeadline: ContinuousTime?
    /// Which timer is the one armed last.
    private(set) var armedGeneration: UInt64 = 0

    /// The number of waiting receives.
    var count: Int { entries.count }

    /// Adds a receive; returns its token and, when a timer must be armed for it, that
    /// timer's generation (the caller arms it for `deadline`).
    mutating func add(
        _ deadline: ContinuousTime, streamID: UInt32, waiterID: UInt64
    ) -> (token: UInt64, arm: UInt64?) {
        lastToken &+= 1
        let entry = Entry(token: lastToken, deadline: deadline, streamID: streamID, waiterID: waiterID)
        if let last = entries.last, last.deadline > deadline {
            let index = entries.firstIndex { $0.deadline > deadline } ?? entries.endIndex
            entries.insert(entry, at: index)
        } else {
            entries.append(entry)
        }
        guard armedDeadline.map({ deadline < $0 }) ?? true else { return (lastToken, nil) }
        armedDeadline = deadline
        armedGeneration &+= 1
        return (lastToken, armedGeneration)
    }

    /// Drops the receive `token`, if it still waits.
    mutating func remove(_ token: UInt64) {
        // Answers mostly come in the order the calls were made: the oldest receive is
        // answered first, else the search goes from the front.
        if entries.first?.token == token {
            entries.removeFirst()
            return
        }
        var index = entries.startIndex
        while index != entries.endIndex {
            if entries[index].token == token {
                entries.remove(at: index)
                return
            }
            entries.formIndex(after: &index)
        }
    }

    /// Takes the receives whose deadline is at or before `now`. When the timer
    /// `generation` is the one armed last, also says when to arm the next, with its
    /// generation, or that none is needed.
    mutating func fire(
        generation: UInt64, now: ContinuousTime
    ) -> (due: [Entry], arm: (deadline: ContinuousTime, generation: UInt64)?) {
        var due: [Entry] = []
        while let first = entries.first, first.deadline <= now {
            due.append(entries.removeFirst())
        }
        guard generation == armedGeneration else { return (due, nil) }
        guard let next = entries.first?.deadline else {
            armedDeadline = nil
            return (due, nil)
        }
        armedDeadline = next
        armedGeneration &+= 1
        return (due, (next, armedGeneration))
    }

    /// Drops every waiting receive (the connection failed, which fails them anyway).
    mutating func removeAll() {
        entries.removeAll()
    }
}
