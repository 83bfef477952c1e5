import MicroCore
import MicroTesting
import Synchronization
import Testing

/// A flag set from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

@Suite struct EventStreamTests {
    @Test func droppingTheSequenceEndsIt() async throws {
        let ended = Flag()
        do {
            let (stream, continuation) = EventStream<Int>.makeStream { ended.set() }
            continuation.yield(1)
            _ = stream
        }
        #expect(ended.isSet, "the producer learns the consumer is gone")
    }

    @Test func aLiveIteratorKeepsItOpen() async throws {
        let ended = Flag()
        let (stream, continuation) = EventStream<Int>.makeStream { ended.set() }
        var iterator = stream.makeAsyncIterator()
        continuation.yield(7)
        #expect(try await iterator.next() == 7)
        #expect(!ended.isSet)
        continuation.finish()
        #expect(try await iterator.next() == nil)
    }

    @Test func cancellingTheConsumerEndsIt() async throws {
        let ended = Flag()
        let (stream, _) = EventStream<Int>.makeStream { ended.set() }
        let consumer = Task { for try await _ in stream {} }
        consumer.cancel()
        _ = try await withTimeout(.seconds(5), "the cancelled consumer to end") { await consumer.result }
        #expect(ended.isSet)
    }
}

@Suite struct RobustParsingTests {
    @Test func outOfRangeDurationsAreRejectedNotTrapped() {
        for text in ["inf", "nan", "1e300", "9999999999999h", "-5", "-1s", "5x", ""] {
            #expect(MicroOptions.parseDuration(text) == nil, "\(text)")
        }
        #expect(MicroOptions.parseDuration("1.5") == .milliseconds(1500))
    }

    @Test func metadataEqualityIgnoresNameCaseAndOrder() {
        let lhs: Metadata = ["Micro-Id": "1", "X-User": "ada"]
        let rhs: Metadata = ["x-user": "ada", "micro-id": "1"]
        #expect(lhs == rhs)
        #expect(lhs.hashValue == rhs.hashValue)
        #expect(lhs != ["Micro-Id": "2", "X-User": "ada"])
        #expect(lhs != ["Micro-Id": "1"])
    }
}
