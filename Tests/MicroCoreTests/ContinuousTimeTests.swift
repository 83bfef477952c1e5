import MicroCore
import Testing

@Suite struct ContinuousTimeTests {
    @Test func instantsConvertBothWaysUnchanged() {
        let instant = ContinuousClock.now.advanced(by: .milliseconds(1_234))
        let time = ContinuousTime(instant)
        #expect(time.instant == instant)
        #expect(ContinuousTime(time.instant) == time)
        let none: ContinuousClock.Instant? = nil
        #expect(none.continuousTime == nil)
        #expect(Optional(instant).continuousTime?.instant == instant)
    }

    @Test func arithmeticAndOrderFollowTheClock() {
        let start = ContinuousClock.now
        let time = ContinuousTime(start)
        let later = time + .seconds(3)
        #expect(later - time == .seconds(3))
        #expect(time < later)
        #expect(later.instant == start + .seconds(3))
        #expect(later.instant - start == .seconds(3))
    }

    @Test func nowIsTheClocksNow() {
        let before = ContinuousClock.now
        let now = ContinuousTime.now
        let after = ContinuousClock.now
        #expect(before <= now.instant)
        #expect(now.instant <= after)
    }

    @Test func arithmeticSaturatesInsteadOfOverflowing() {
        let late = ContinuousTime(nanoseconds: .max - 5)
        #expect(late.advanced(byNanoseconds: 10).nanoseconds == .max)
        #expect(ContinuousTime(nanoseconds: .min + 5).advanced(byNanoseconds: -10).nanoseconds == .min)
        #expect((late + .seconds(1)).nanoseconds == .max)
        #expect(late.nanoseconds(since: ContinuousTime(nanoseconds: -10)) == .max)
        #expect(ContinuousTime(nanoseconds: -10).nanoseconds(since: late) == .min)
        #expect(ContinuousTime(nanoseconds: 7).nanoseconds(since: ContinuousTime(nanoseconds: 10)) == -3)
    }

    @Test func durationsConvertToWholeNanosecondsClamped() {
        #expect(Duration.milliseconds(1_500).wholeNanoseconds == 1_500_000_000)
        #expect(Duration.nanoseconds(-42).wholeNanoseconds == -42)
        #expect((Duration.nanoseconds(1) / 4).wholeNanoseconds == 0)
        #expect(Duration.seconds(Int64.max).wholeNanoseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeNanoseconds == .min)
    }
}
