/// A moment on `ContinuousClock`, held as the `Duration` since the clock's epoch: the
/// form the call path keeps deadlines in.
///
/// `ContinuousClock.Instant` is resilient, so outside the standard library it has no
/// fixed layout. A struct that stores one has none either: each copy of it goes through
/// value witnesses, and each async function that keeps one across an `await` allocates
/// room for it from the task at run time. `Duration` is frozen, so this type and the
/// structs that store it are laid out at compile time. Public API still speaks
/// `ContinuousClock.Instant`; ``init(_:)`` and ``instant`` convert at the edges.
package struct ContinuousTime: Sendable, Hashable, Comparable {
    /// The time since `ContinuousClock`'s epoch.
    package var sinceEpoch: Duration

    /// The moment `sinceEpoch` after the clock's epoch.
    package init(sinceEpoch: Duration) {
        self.sinceEpoch = sinceEpoch
    }

    /// The moment `instant` names.
    package init(_ instant: ContinuousClock.Instant) {
        sinceEpoch = ContinuousClock().systemEpoch.duration(to: instant)
    }

    /// The current moment.
    package static var now: ContinuousTime {
        ContinuousTime(ContinuousClock.now)
    }

    /// This moment as a `ContinuousClock.Instant`.
    package var instant: ContinuousClock.Instant {
        ContinuousClock().systemEpoch.advanced(by: sinceEpoch)
    }

    /// Whether `lhs` comes before `rhs`.
    package static func < (lhs: ContinuousTime, rhs: ContinuousTime) -> Bool {
        lhs.sinceEpoch < rhs.sinceEpoch
    }

    /// The moment `duration` after `time`.
    package static func + (time: ContinuousTime, duration: Duration) -> ContinuousTime {
        ContinuousTime(sinceEpoch: time.sinceEpoch + duration)
    }

    /// The time from `rhs` to `lhs`.
    package static func - (lhs: ContinuousTime, rhs: ContinuousTime) -> Duration {
        lhs.sinceEpoch - rhs.sinceEpoch
    }
}

extension Optional where Wrapped == ContinuousTime {
    /// The moment as a `ContinuousClock.Instant`, `nil` staying `nil`.
    package var instant: ContinuousClock.Instant? {
        map(\.instant)
    }
}

extension Optional where Wrapped == ContinuousClock.Instant {
    /// The moment as a ``ContinuousTime``, `nil` staying `nil`.
    package var continuousTime: ContinuousTime? {
        map(ContinuousTime.init)
    }
}
