#if canImport(Glibc)
import Glibc
#endif

/// A moment on `ContinuousClock`, held as whole nanoseconds since the clock's epoch: the
/// form the call path keeps deadlines in.
///
/// `ContinuousClock.Instant` is resilient, so outside the standard library it has no
/// fixed layout. A struct that stores one has none either: each copy of it goes through
/// value witnesses, and each async function that keeps one across an `await` allocates
/// room for it from the task at run time. An `Int64` count is laid out at compile time,
/// and comparing, adding and subtracting it are single instructions, where `Duration`'s
/// 128-bit attoseconds take a multiplication or a division each time a deadline becomes
/// a `Timeout` header. An `Int64` of nanoseconds spans 292 years; arithmetic saturates.
///
/// Public API still speaks `ContinuousClock.Instant`; ``init(_:)`` and ``instant``
/// convert at the edges (dropping anything finer than a nanosecond).
package struct ContinuousTime: Sendable, Hashable, Comparable {
    /// Nanoseconds since `ContinuousClock`'s epoch.
    package var nanoseconds: Int64

    /// The moment `nanoseconds` after the clock's epoch.
    package init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The moment `instant` names.
    package init(_ instant: ContinuousClock.Instant) {
        nanoseconds = ContinuousClock().systemEpoch.duration(to: instant).wholeNanoseconds
    }

    /// The current moment.
    ///
    /// On Linux `ContinuousClock` reads `CLOCK_BOOTTIME`; reading it here directly gives
    /// the nanoseconds without the `Duration` in between.
    package static var now: ContinuousTime {
        #if os(Linux)
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return ContinuousTime(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
        #else
        return ContinuousTime(ContinuousClock.now)
        #endif
    }

    /// This moment as a `ContinuousClock.Instant`.
    package var instant: ContinuousClock.Instant {
        ContinuousClock().systemEpoch.advanced(by: .nanoseconds(nanoseconds))
    }

    /// Whether `lhs` comes before `rhs`.
    package static func < (lhs: ContinuousTime, rhs: ContinuousTime) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The moment `duration` after `time`.
    package static func + (time: ContinuousTime, duration: Duration) -> ContinuousTime {
        time.advanced(byNanoseconds: duration.wholeNanoseconds)
    }

    /// The moment `nanoseconds` after this one, saturating at the ends of `Int64`.
    package func advanced(byNanoseconds nanoseconds: Int64) -> ContinuousTime {
        let (sum, overflow) = self.nanoseconds.addingReportingOverflow(nanoseconds)
        return ContinuousTime(nanoseconds: overflow ? (nanoseconds < 0 ? .min : .max) : sum)
    }

    /// The time from `rhs` to `lhs`.
    package static func - (lhs: ContinuousTime, rhs: ContinuousTime) -> Duration {
        .nanoseconds(lhs.nanoseconds(since: rhs))
    }

    /// The nanoseconds from `earlier` to this moment, saturating at the ends of `Int64`.
    package func nanoseconds(since earlier: ContinuousTime) -> Int64 {
        let (difference, overflow) = nanoseconds.subtractingReportingOverflow(earlier.nanoseconds)
        return overflow ? (earlier.nanoseconds < 0 ? .max : .min) : difference
    }
}

extension Duration {
    /// The duration in whole nanoseconds (towards zero), clamped to `Int64`.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
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
