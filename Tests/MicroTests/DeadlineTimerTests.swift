import MicroCore
@testable import Micro
import Testing

@Suite struct DeadlineTimerTests {
    @Test func withdrawnInTimeLeavesTheTaskAlone() async throws {
        let timer = DeadlineTimer()
        let cancelled = await Task {
            let token = withUnsafeCurrentTask { timer.schedule(cancelling: $0!, at: .now + .seconds(30)) }
            let late = timer.cancel(token)
            return (late, Task.isCancelled)
        }.value
        #expect(cancelled == (false, false))
    }

    @Test func aPassedDeadlineCancelsTheTaskAndWithdrawingReportsIt() async throws {
        let timer = DeadlineTimer()
        let (late, sawCancellation) = await Task {
            let token = withUnsafeCurrentTask { timer.schedule(cancelling: $0!, at: .now + .milliseconds(20)) }
            // Waits for the cancellation (the sleep throws) or gives up after 10 s.
            let sawCancellation = (try? await Task.sleep(for: .seconds(10))) == nil
            return (timer.cancel(token), sawCancellation)
        }.value
        #expect(late)
        #expect(sawCancellation)
    }

    @Test func eachTaskIsCancelledAtItsOwnDeadline() async throws {
        // Later deadlines first, so each new one moves the wake-up earlier; one is
        // withdrawn; the rest fire in deadline order.
        let timer = DeadlineTimer()
        let start = ContinuousTime.now
        let delays: [Duration] = [.milliseconds(300), .milliseconds(200), .milliseconds(100), .milliseconds(150)]
        let results = await withTaskGroup(of: (Int, Duration?).self) { group in
            for (index, delay) in delays.enumerated() {
                group.addTask {
                    let token = withUnsafeCurrentTask { timer.schedule(cancelling: $0!, at: start + delay) }
                    if index == 3 {
                        // Withdrawn before its deadline: never cancelled.
                        _ = timer.cancel(token)
                        try? await Task.sleep(for: .milliseconds(400))
                        return (index, Task.isCancelled ? .zero : nil)
                    }
                    try? await Task.sleep(for: .seconds(10))
                    _ = timer.cancel(token)
                    return (index, ContinuousTime.now - start)
                }
            }
            var results: [Int: Duration?] = [:]
            for await (index, elapsed) in group { results[index] = elapsed }
            return results
        }
        #expect(results[3]! == nil)
        for index in 0..<3 {
            let elapsed = try #require(results[index]!)
            #expect(elapsed >= delays[index], "task \(index) cancelled after \(elapsed), before its deadline")
            #expect(elapsed < delays[index] + .seconds(5), "task \(index) cancelled only after \(elapsed)")
        }
    }
}
