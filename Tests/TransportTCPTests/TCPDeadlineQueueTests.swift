import MicroCore
import Testing

@testable import TransportTCP

@Suite("TCPDeadlineQueue")
struct TCPDeadlineQueueTests {
    private let stream: UInt32 = 1
    private let start = ContinuousTime.now

    private func at(_ seconds: Double) -> ContinuousTime {
        start + .milliseconds(Int(seconds * 1000))
    }

    @Test("a timer is armed for the first deadline and for earlier ones only")
    func arming() {
        var queue = TCPDeadlineQueue()
        let first = queue.add(at(5), streamID: stream, waiterID: 1)
        #expect(first.arm != nil)
        #expect(queue.add(at(5.1), streamID: stream, waiterID: 2).arm == nil)
        #expect(queue.add(at(5), streamID: stream, waiterID: 3).arm == nil)
        let earlier = queue.add(at(1), streamID: stream, waiterID: 4)
        #expect(earlier.arm != nil && earlier.arm != first.arm)
        #expect(queue.armedDeadline == at(1))
        #expect(queue.count == 4)
    }

    @Test("firing takes what is due, in deadline order, and arms the next timer")
    func firing() {
        var queue = TCPDeadlineQueue()
        let armed = queue.add(at(2), streamID: stream, waiterID: 1).arm!
        _ = queue.add(at(3), streamID: stream, waiterID: 2)
        _ = queue.add(at(1), streamID: stream, waiterID: 3)  // arms a newer timer
        _ = queue.add(at(2.5), streamID: stream, waiterID: 4)
        // The older timer (for 2 s) fires late, at 2.6 s: it takes what is due but arms nothing.
        let stale = queue.fire(generation: armed, now: at(2.6))
        #expect(stale.due.map(\.waiterID) == [3, 1, 4])
        #expect(stale.arm == nil)
        // The current timer fires: nothing more is due; the next is armed for 3 s.
        let current = queue.fire(generation: queue.armedGeneration, now: at(2.7))
        #expect(current.due.isEmpty)
        #expect(current.arm?.deadline == at(3))
        #expect(queue.armedDeadline == at(3))
        // A timer that fires a hair early still arms again, for the same deadline.
        let early = queue.fire(generation: current.arm!.generation, now: at(2.999))
        #expect(early.due.isEmpty)
        #expect(early.arm?.deadline == at(3))
        let last = queue.fire(generation: early.arm!.generation, now: at(3))
        #expect(last.due.map(\.waiterID) == [2])
        #expect(last.arm == nil)
        #expect(queue.armedDeadline == nil)
        #expect(queue.count == 0)
    }

    @Test("an answered receive is removed by its token and never comes due")
    func removal() {
        var queue = TCPDeadlineQueue()
        let generation = queue.add(at(1), streamID: stream, waiterID: 1).arm!
        let second = queue.add(at(1), streamID: stream, waiterID: 2).token
        _ = queue.add(at(1), streamID: stream, waiterID: 3)
        queue.remove(second)
        queue.remove(second)
        #expect(queue.count == 2)
        #expect(queue.fire(generation: generation, now: at(1)).due.map(\.waiterID) == [1, 3])
    }

    @Test("the first, a middle and the last receive are each removed, the others kept in order")
    func removalAnywhere() {
        var queue = TCPDeadlineQueue()
        let added = (1...5).map { queue.add(at(1), streamID: UInt32($0), waiterID: UInt64(10 * $0)) }
        queue.remove(added[0].token)  // the first (the oldest receive, the usual case)
        queue.remove(added[4].token)  // the last
        queue.remove(added[2].token)  // one in the middle
        queue.remove(12_345)  // no such token
        #expect(queue.count == 2)
        let due = queue.fire(generation: added[0].arm!, now: at(1)).due
        #expect(due.map(\.streamID) == [2, 4])
        #expect(due.map(\.waiterID) == [20, 40])
    }
}
