import MicroCore
import NIOCore
import Synchronization
import Testing

/// The broker contract's bookkeeping: an inbox's delivery waits for its settlement, the
/// buffer is bounded, and the ways a subscription ends.
@Suite(.timeLimit(.minutes(1)))
struct BrokerSubscriptionTests {
    struct Refused: Error, Equatable {}

    private func message(_ body: String) -> BrokerMessage { BrokerMessage(body: ByteBuffer(string: body)) }

    @Test func aDeliveryReturnsWhenAcknowledgedAndThrowsTheRejection() async throws {
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: nil)
        let consumer = Task {
            var settled = 0
            for try await delivery in subscription {
                if String(buffer: delivery.message.body) == "bad" { delivery.reject(Refused()) } else { delivery.acknowledge() }
                settled += 1
                if settled == 2 { return }
            }
        }
        try await inbox.deliver(message("good"))
        await #expect(throws: Refused.self) { try await inbox.deliver(message("bad")) }
        try await consumer.value
    }

    @Test func aDroppedDeliveryIsNotAcknowledged() async throws {
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: nil)
        let consumer = Task { for try await _ in subscription { return } }
        let error = await #expect(throws: BrokerError.self) { try await inbox.deliver(message("dropped")) }
        #expect(error?.code == .notAcknowledged)
        try await consumer.value
    }

    @Test func theBufferIsBounded() async throws {
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: nil, capacity: 2)
        let waiting = (0..<2).map { index in Task { try await inbox.deliver(message("\(index)")) } }
        try await Task.sleep(for: .milliseconds(100))  // both reach the buffer
        // Two wait untaken: the third is refused at once, without waiting.
        let error = await #expect(throws: BrokerError.self) { try await inbox.deliver(message("overflow")) }
        #expect(error?.code == .busy)
        let consumer = Task { try await subscription.handle { _ in } }
        for task in waiting { try await task.value }
        consumer.cancel()
    }

    @Test func unsubscribeLetsTheConsumerFinishTheBufferThenEnds() async throws {
        let ended = Recorded()
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: "q") { ended.set() }
        #expect(subscription.queue == "q")
        let buffered = Task { try await inbox.deliver(message("buffered")) }
        try await Task.sleep(for: .milliseconds(20))  // the delivery reaches the buffer
        await subscription.unsubscribe()
        #expect(ended.value)
        #expect(!inbox.isOpen)
        let error = await #expect(throws: BrokerError.self) { try await inbox.deliver(message("late")) }
        #expect(error?.code == .unsubscribed)
        var taken: [String] = []
        for try await delivery in subscription {
            taken.append(String(buffer: delivery.message.body))
            delivery.acknowledge()
        }
        #expect(taken == ["buffered"])
        try await buffered.value
    }

    @Test func cancellingTheConsumerEndsTheSubscriptionAndRejectsTheBuffer() async throws {
        let ended = Recorded()
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: nil) { ended.set() }
        let consumer = Task { for try await _ in subscription {} }
        try await Task.sleep(for: .milliseconds(20))
        consumer.cancel()
        try await consumer.value
        let error = await #expect(throws: BrokerError.self) { try await inbox.deliver(message("after")) }
        #expect(error?.code == .unsubscribed)
        let deadline = ContinuousClock.now + .seconds(5)
        while !ended.value, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(ended.value, "onEnd ran")
    }

    @Test func aCancelledPublisherStopsWaiting() async throws {
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: "t", queue: nil)
        let publisher = Task { try await inbox.deliver(message("given up")) }
        try await Task.sleep(for: .milliseconds(20))
        publisher.cancel()
        await #expect(throws: CancellationError.self) { try await publisher.value }
        // The given-up delivery is skipped; the next one is taken.
        let next = Task { try await inbox.deliver(message("next")) }
        var iterator = subscription.makeAsyncIterator()
        let delivery = try await iterator.next()
        #expect(delivery.map { String(buffer: $0.message.body) } == "next")
        delivery?.acknowledge()
        try await next.value
    }
}

/// A flag set from any thread.
private final class Recorded: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var value: Bool { flag.withLock { $0 } }
}
