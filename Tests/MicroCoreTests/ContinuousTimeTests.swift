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
}
