public import MicroCore
import NIOCore
import Synchronization

/// The behaviour every ``MicroCore/Broker`` backend must show: the contract documented on
/// ``MicroCore/Broker``.
///
/// ```swift
/// @Test(arguments: BrokerConformance.cases)
/// func brokerConformance(_ check: BrokerConformance.Case) async throws {
///     let broker = MemoryBroker()
///     try await check.run({ broker })
/// }
/// ```
///
/// A case calls `makeBroker` once for the publisher and once per subscriber, so a
/// networked backend can hand out separate instances (in other processes, behind a
/// proxy of the test's own) that share one registry: then every check runs across
/// processes. Every case uses topics of its own (random suffix), so cases can share a
/// broker.
///
/// The cases:
/// - `broadcastSubscribersEachGetEveryMessage`, `queueGroupGetsEachMessageOnce`: each
///   message once per queue group, to every broadcast subscriber, and already handled
///   when `publish` returns;
/// - `publishWaitsForAcknowledgement`: `publish` returns only after the handler did;
/// - `rejectedMessageGoesToAnotherMember`, `rejectionReachesPublisher`: a handler error
///   reaches the broker, which offers the message to another member of the group and
///   fails the publish when nobody took it;
/// - `bufferingIsBounded`: a subscriber that takes nothing holds at most
///   ``Options/maxBuffered`` messages; the other publishes fail;
/// - `cancelledConsumerStops`, `unsubscribeFinishesBufferedMessages`: how a subscription
///   ends;
/// - `headersAndBodyPreserved`, `topicsAreIsolated`, `publishWithoutSubscribers`.
public enum BrokerConformance {
    /// Timing and bounds of the checks.
    public struct Options: Sendable {
        /// How long to wait for a message, or for any broker call.
        public var timeout: Duration = .seconds(5)
        /// How long to keep listening for messages that must not come (duplicates,
        /// other topics), or to check that a publish is still waiting.
        public var quietPeriod: Duration = .milliseconds(200)
        /// The most messages a subscription that takes nothing may hold; the backend's
        /// buffer bound (64 for subscriptions made with the core's default).
        public var maxBuffered: Int = 64

        /// The defaults: 5 s timeout, 200 ms quiet period, 64 buffered.
        public init() {}
    }

    /// One named check.
    public struct Case: Sendable, CustomStringConvertible {
        /// The check's name, such as `queueGroupGetsEachMessageOnce`.
        public let name: String
        private let body: @Sendable (Context) async throws -> Void

        fileprivate init(_ name: String, _ body: @escaping @Sendable (Context) async throws -> Void) {
            self.name = name
            self.body = body
        }

        /// The name.
        public var description: String { name }

        /// Runs the check.
        ///
        /// - Parameters:
        ///   - makeBroker: returns a broker; the case calls it for the publisher and for
        ///     each subscriber, and every call must reach the same bus (for an
        ///     in-process backend, return one instance).
        ///   - options: timing and bounds.
        /// - Throws: ``ConformanceFailure`` naming the case and what differed.
        public func run(
            _ makeBroker: @escaping @Sendable () async throws -> any Broker,
            options: Options = Options()
        ) async throws {
            let context = Context(makeBroker: makeBroker, options: options)
            try await runCase("BrokerConformance", name) {
                defer { context.cancelAll() }
                try await body(context)
            }
        }
    }

    /// Every check.
    public static let cases: [Case] = [
        Case("broadcastSubscribersEachGetEveryMessage", broadcastSubscribersEachGetEveryMessage),
        Case("queueGroupGetsEachMessageOnce", queueGroupGetsEachMessageOnce),
        Case("publishWaitsForAcknowledgement", publishWaitsForAcknowledgement),
        Case("rejectedMessageGoesToAnotherMember", rejectedMessageGoesToAnotherMember),
        Case("rejectionReachesPublisher", rejectionReachesPublisher),
        Case("bufferingIsBounded", bufferingIsBounded),
        Case("cancelledConsumerStops", cancelledConsumerStops),
        Case("unsubscribeFinishesBufferedMessages", unsubscribeFinishesBufferedMessages),
        Case("headersAndBodyPreserved", headersAndBodyPreserved),
        Case("topicsAreIsolated", topicsAreIsolated),
        Case("publishWithoutSubscribers", publishWithoutSubscribers),
    ]

    // MARK: - Support

    /// What a case works with.
    final class Context: Sendable {
        let makeBroker: @Sendable () async throws -> any Broker
        let options: Options
        private let consumers = Mutex<[Consumer]>([])

        init(makeBroker: @escaping @Sendable () async throws -> any Broker, options: Options) {
            self.makeBroker = makeBroker
            self.options = options
        }

        func broker() async throws -> any Broker {
            let make = makeBroker
            return try await withTimeout(options.timeout, "makeBroker()") { try await make() }
        }

        func subscription(_ broker: any Broker, _ topic: String, queue: String? = nil) async throws -> BrokerSubscription {
            try await withTimeout(options.timeout, "subscribe(\(topic), queue: \(queue ?? "nil"))") {
                try await broker.subscribe(topic, queue: queue)
            }
        }

        /// Subscribes and starts a consumer that settles each delivery as `mode` says.
        func consumer(
            _ broker: any Broker, _ topic: String, queue: String? = nil, mode: Consumer.Mode = .acknowledge
        ) async throws -> Consumer {
            consume(try await subscription(broker, topic, queue: queue), mode: mode)
        }

        /// Starts a consumer of `subscription`.
        func consume(_ subscription: BrokerSubscription, mode: Consumer.Mode = .acknowledge) -> Consumer {
            let consumer = Consumer(subscription, mode: mode)
            consumers.withLock { $0.append(consumer) }
            return consumer
        }

        @discardableResult
        func publish(_ broker: any Broker, _ topic: String, _ body: String, headers: Metadata = Metadata()) async throws -> BrokerReceipt {
            let message = BrokerMessage(headers: headers, body: ByteBuffer(string: body))
            return try await withTimeout(options.timeout, "publish(\(topic), \(body))") { try await broker.publish(topic, message: message) }
        }

        func cancelAll() {
            for consumer in consumers.withLock({ $0 }) { consumer.cancel() }
        }
    }

    /// Takes a subscription's deliveries in a task of its own, records each message
    /// before settling it, and settles as its mode says.
    final class Consumer: Sendable {
        /// How deliveries are settled.
        enum Mode: Sendable, Equatable {
            /// Acknowledge at once.
            case acknowledge
            /// Reject with an error.
            case reject
            /// Wait until the mode changes, then settle as it says.
            case hold
        }

        private struct State {
            var received: [String] = []
            var rejected = 0
            var mode: Mode
            var ended = false
        }

        private let state: Mutex<State>
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(_ subscription: BrokerSubscription, mode: Mode) {
            state = Mutex(State(mode: mode))
            let reader = Task { [self] in
                do {
                    for try await delivery in subscription {
                        state.withLock { $0.received.append(String(buffer: delivery.message.body)) }
                        while state.withLock({ $0.mode }) == .hold, !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                        if state.withLock({ $0.mode }) == .reject {
                            state.withLock { $0.rejected += 1 }
                            delivery.reject(ConformanceFailure("rejected by the conformance consumer"))
                        } else {
                            delivery.acknowledge()
                        }
                    }
                } catch {}
                state.withLock { $0.ended = true }
            }
            task.withLock { $0 = reader }
        }

        var received: [String] { state.withLock { $0.received } }
        var rejected: Int { state.withLock { $0.rejected } }
        var hasEnded: Bool { state.withLock { $0.ended } }

        func setMode(_ mode: Mode) {
            state.withLock { $0.mode = mode }
        }

        func cancel() {
            task.withLock { $0?.cancel() }
        }

        /// Waits until `done` holds for the messages received, or fails after `timeout`.
        func wait(
            for what: String, timeout: Duration, file: StaticString = #filePath, line: UInt = #line,
            until done: ([String]) -> Bool
        ) async throws {
            try await waitUntil(what, timeout: timeout, file: file, line: line) { done(self.received) } seen: { "received \(self.received)" }
        }

        /// Waits until the consuming loop ended, or fails after `timeout`.
        func waitForEnd(_ what: String, timeout: Duration) async throws {
            try await waitUntil(what, timeout: timeout) { self.hasEnded } seen: { "the consumer is still iterating" }
        }
    }

    /// Polls `condition` until it holds, or fails after `timeout` with `seen()`.
    static func waitUntil(
        _ what: String, timeout: Duration, file: StaticString = #filePath, line: UInt = #line,
        _ condition: () -> Bool, seen: () -> String
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !condition() {
            if clock.now >= deadline {
                throw ConformanceFailure("expected \(what) within \(timeout); \(seen())", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private static func sorted(_ bodies: [String]) -> [String] { bodies.sorted() }

    /// `prefix0`, `prefix1`, … sorted as strings.
    private static func messages(_ prefix: String, _ count: Int) -> [String] {
        (0..<count).map { "\(prefix)\($0)" }.sorted()
    }

    /// Runs `body` in a task and says whether it finished within `period`.
    private final class Pending: Sendable {
        private let outcome = MutexBox<Result<Void, any Error>?>(nil)
        private let task: Task<Void, Never>

        init(_ body: @escaping @Sendable () async throws -> Void) {
            let outcome = self.outcome
            task = Task {
                do {
                    try await body()
                    outcome.withLock { $0 = .success(()) }
                } catch {
                    outcome.withLock { $0 = .failure(error) }
                }
            }
        }

        var result: Result<Void, any Error>? { outcome.withLock { $0 } }

        func cancel() { task.cancel() }

        func wait(_ what: String, timeout: Duration) async throws -> Result<Void, any Error> {
            try await waitUntil(what, timeout: timeout) { self.result != nil } seen: { "it is still running" }
            return result!
        }
    }

    // MARK: - Cases

    static func broadcastSubscribersEachGetEveryMessage(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("broadcast")
        let first = try await context.consumer(try await context.broker(), topic)
        let second = try await context.consumer(try await context.broker(), topic)
        let expected = messages("m", 5)
        for body in expected { try await context.publish(publisher, topic, body) }
        // Acknowledged means handled: nothing to wait for once publish returned.
        try expectEqual(sorted(first.received), expected, "messages the first broadcast subscriber had handled when publish returned")
        try expectEqual(sorted(second.received), expected, "messages the second broadcast subscriber had handled when publish returned")
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(sorted(first.received), expected, "messages of the first broadcast subscriber (each once)")
        try expectEqual(sorted(second.received), expected, "messages of the second broadcast subscriber (each once)")
    }

    static func queueGroupGetsEachMessageOnce(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("queue")
        let queue = uniqueName("group")
        let memberA = try await context.consumer(try await context.broker(), topic, queue: queue)
        let memberB = try await context.consumer(try await context.broker(), topic, queue: queue)
        let broadcast = try await context.consumer(try await context.broker(), topic)
        let expected = messages("q", 20)
        for body in expected {
            let receipt = try await context.publish(publisher, topic, body)
            try expectEqual(receipt, BrokerReceipt(subscribers: 1, groups: 1), "the receipt of a publish to a broadcast subscriber and a queue group")
        }
        try await Task.sleep(for: context.options.quietPeriod)
        let a = memberA.received
        let b = memberB.received
        try expectEqual(sorted(a + b), expected, "messages the queue group handled in total (member A \(a), member B \(b)); each exactly once")
        try expectEqual(sorted(broadcast.received), expected, "messages of the broadcast subscriber beside the group")
    }

    static func publishWaitsForAcknowledgement(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("ack")
        let broadcast = try await context.consumer(try await context.broker(), topic, mode: .hold)
        let member = try await context.consumer(try await context.broker(), topic, queue: uniqueName("group"), mode: .hold)
        let publish = Pending { try await context.publish(publisher, topic, "held") }
        defer { publish.cancel() }
        try await broadcast.wait(for: "the broadcast subscriber to take the message", timeout: context.options.timeout) { $0 == ["held"] }
        try await member.wait(for: "the queue member to take the message", timeout: context.options.timeout) { $0 == ["held"] }
        try await Task.sleep(for: context.options.quietPeriod)
        try expect(publish.result == nil, "publish returned (\(String(describing: publish.result))) while both handlers were still running")
        broadcast.setMode(.acknowledge)
        try await Task.sleep(for: context.options.quietPeriod)
        try expect(publish.result == nil, "publish returned (\(String(describing: publish.result))) while the queue member's handler was still running")
        member.setMode(.acknowledge)
        let result = try await publish.wait("publish to return once both acknowledged", timeout: context.options.timeout)
        if case .failure(let error) = result { throw ConformanceFailure("publish failed after both acknowledged: \(error)") }
    }

    static func rejectedMessageGoesToAnotherMember(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("reject")
        let queue = uniqueName("group")
        let failing = try await context.consumer(try await context.broker(), topic, queue: queue, mode: .reject)
        let working = try await context.consumer(try await context.broker(), topic, queue: queue)
        let expected = messages("r", 10)
        for body in expected { try await context.publish(publisher, topic, body) }
        try expectEqual(sorted(working.received), expected, "messages the working member handled (the failing member rejected \(failing.rejected) and each must be offered again)")
        try expect(failing.rejected == failing.received.count, "the failing member acknowledged a message it rejected")
    }

    static func rejectionReachesPublisher(_ context: Context) async throws {
        let publisher = try await context.broker()
        let groupTopic = uniqueName("reject-group")
        let lone = try await context.consumer(try await context.broker(), groupTopic, queue: uniqueName("group"), mode: .reject)
        let message = BrokerMessage(body: ByteBuffer(string: "refused"))
        let groupResult = try await Pending { try await publisher.publish(groupTopic, message: message) }
            .wait("publish to a queue group whose only member rejects", timeout: context.options.timeout)
        guard case .failure = groupResult else {
            throw ConformanceFailure("publish succeeded though the only member of the group rejected the message")
        }
        try expect(lone.rejected >= 1, "the member never got the message it should have rejected")
        let broadcastTopic = uniqueName("reject-broadcast")
        _ = try await context.consumer(try await context.broker(), broadcastTopic, mode: .reject)
        let broadcastResult = try await Pending { try await publisher.publish(broadcastTopic, message: message) }
            .wait("publish to a broadcast subscriber that rejects", timeout: context.options.timeout)
        guard case .failure = broadcastResult else {
            throw ConformanceFailure("publish succeeded though the broadcast subscriber rejected the message")
        }
    }

    static func bufferingIsBounded(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("bounded")
        let idle = try await context.subscription(try await context.broker(), topic)
        let count = context.options.maxBuffered * 3
        let publishes = (0..<count).map { index in Pending { try await context.publish(publisher, topic, "b\(index)") } }
        defer { for publish in publishes { publish.cancel() } }
        // Nobody takes anything: the messages past the bound must fail, not pile up.
        try await waitUntil("at least \(count - context.options.maxBuffered) of \(count) publishes to fail", timeout: context.options.timeout) {
            publishes.count { if case .failure = $0.result { true } else { false } } >= count - context.options.maxBuffered
        } seen: {
            "\(publishes.count { if case .failure = $0.result { true } else { false } }) failed, \(publishes.count { $0.result == nil }) waiting"
        }
        try expect(!publishes.contains { if case .success = $0.result { true } else { false } }, "a publish succeeded though nobody took its message")
        let consumer = context.consume(idle)
        for (index, publish) in publishes.enumerated() {
            _ = try await publish.wait("publish b\(index) to finish once the subscriber consumes", timeout: context.options.timeout)
        }
        try await Task.sleep(for: context.options.quietPeriod)
        try expect(
            consumer.received.count <= context.options.maxBuffered,
            "the subscriber that took nothing had \(consumer.received.count) messages buffered; at most \(context.options.maxBuffered) may wait"
        )
        let succeeded = publishes.count { if case .success = $0.result { true } else { false } }
        try expectEqual(succeeded, consumer.received.count, "publishes that succeeded vs messages the subscriber acknowledged")
    }

    static func cancelledConsumerStops(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("cancel")
        let queue = uniqueName("group")
        let leaving = try await context.consumer(try await context.broker(), topic)
        let staying = try await context.consumer(try await context.broker(), topic)
        let leavingMember = try await context.consumer(try await context.broker(), topic, queue: queue)
        let stayingMember = try await context.consumer(try await context.broker(), topic, queue: queue)
        try await context.publish(publisher, topic, "before")
        try expectEqual(leaving.received, ["before"], "messages of the broadcast subscriber about to leave")
        leaving.cancel()
        leavingMember.cancel()
        try await leaving.waitForEnd("a cancelled consumer's subscription to end", timeout: context.options.timeout)
        try await leavingMember.waitForEnd("a cancelled queue member's subscription to end", timeout: context.options.timeout)
        let after = messages("after", 6)
        for body in after { try await context.publish(publisher, topic, body) }
        try expectEqual(sorted(staying.received), sorted(["before"] + after), "messages of the broadcast subscriber that stays")
        try expectEqual(
            sorted(stayingMember.received.filter { $0 != "before" }), after,
            "messages of the remaining queue member (the other left, so it must get all)"
        )
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(leaving.received, ["before"], "messages of the cancelled broadcast subscriber")
    }

    static func unsubscribeFinishesBufferedMessages(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topic = uniqueName("unsubscribe")
        let subscription = try await context.subscription(try await context.broker(), topic)
        let buffered = messages("u", 3)
        let publishes = buffered.map { body in Pending { try await context.publish(publisher, topic, body) } }
        defer { for publish in publishes { publish.cancel() } }
        // Nothing is taken yet; give the messages time to reach the subscriber's buffer.
        try await Task.sleep(for: context.options.quietPeriod)
        try await withTimeout(context.options.timeout, "unsubscribe()") { await subscription.unsubscribe() }
        let consumer = context.consume(subscription)
        try await consumer.waitForEnd("the subscription to end after its buffered messages", timeout: context.options.timeout)
        try expectEqual(sorted(consumer.received), buffered, "messages buffered before unsubscribe() and taken after it")
        for (index, publish) in publishes.enumerated() {
            if case .failure(let error) = try await publish.wait("publish \(buffered[index])", timeout: context.options.timeout) {
                throw ConformanceFailure("publish of a message handled after unsubscribe() failed: \(error)")
            }
        }
        try await context.publish(publisher, topic, "later")
        try expectEqual(sorted(consumer.received), buffered, "messages after unsubscribe(): none may arrive")
    }

    static func headersAndBodyPreserved(_ context: Context) async throws {
        let publisher = try await context.broker()
        let subscriberBroker = try await context.broker()
        let topic = uniqueName("headers")
        let subscription = try await context.subscription(subscriberBroker, topic)
        let seen = Mutex<BrokerMessage?>(nil)
        let reader = Task {
            try await subscription.handle { message in seen.withLock { $0 = message } }
        }
        defer { reader.cancel() }
        var headers = Metadata()
        headers["X-Conformance"] = "Value With Spaces"
        headers["Content-Type"] = "application/octet-stream"
        headers["Micro-Id"] = "id-123"
        var body = ByteBuffer()
        body.writeBytes(Array(0...255) as [UInt8])
        let message = BrokerMessage(headers: headers, body: body)
        try await withTimeout(context.options.timeout, "publish") { try await publisher.publish(topic, message: message) }
        guard let received = seen.withLock({ $0 }) else {
            throw ConformanceFailure("publish returned before the subscriber handled the message")
        }
        for field in headers {
            try expectEqual(received.headers[field.name.lowercased()], field.value, "header \(field.name) (looked up in lower case); received headers \(received.headers)")
        }
        try expect(Array(received.body.readableBytesView) == Array(0...255) as [UInt8], "the body of 256 distinct bytes changed: got \(received.body.readableBytes) bytes")
    }

    static func topicsAreIsolated(_ context: Context) async throws {
        let publisher = try await context.broker()
        let topicA = uniqueName("topicA")
        let topicB = uniqueName("topicB")
        let onA = try await context.consumer(try await context.broker(), topicA)
        let onB = try await context.consumer(try await context.broker(), topicB)
        try await context.publish(publisher, topicA, "for-a")
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(onA.received, ["for-a"], "messages of the subscriber of \(topicA)")
        try expect(onB.received.isEmpty, "the subscriber of \(topicB) got \(onB.received) published to \(topicA)")
        try await context.publish(publisher, topicB, "for-b")
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(onB.received, ["for-b"], "messages of the subscriber of \(topicB)")
        try expectEqual(onA.received, ["for-a"], "messages of the subscriber of \(topicA)")
    }

    static func publishWithoutSubscribers(_ context: Context) async throws {
        let broker = try await context.broker()
        let receipt = try await context.publish(broker, uniqueName("nobody"), "into the void")
        try expectEqual(receipt, BrokerReceipt(), "the receipt of a publish nobody subscribed to")
    }
}
