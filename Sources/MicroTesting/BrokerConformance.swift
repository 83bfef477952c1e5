public import MicroCore
import NIOCore

/// The behaviour every ``MicroCore/Broker`` backend must show.
///
/// ```swift
/// @Test(arguments: BrokerConformance.cases)
/// func brokerConformance(_ check: BrokerConformance.Case) async throws {
///     let broker = MemoryBroker()
///     try await check.run({ broker })
/// }
/// ```
///
/// Every case uses topics of its own (random suffix), so cases can share a broker.
public enum BrokerConformance {
    /// Timing of the checks.
    public struct Options: Sendable {
        /// How long to wait for a message, or for any broker call.
        public var timeout: Duration = .seconds(3)
        /// How long to keep listening for messages that must not come (duplicates,
        /// other topics).
        public var quietPeriod: Duration = .milliseconds(200)

        /// The defaults: 3 s timeout, 200 ms quiet period.
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
        ///   - makeBroker: returns a broker; the case may call it more than once (a
        ///     publisher and subscribers) and every call must reach the same bus (for an
        ///     in-process backend, return one instance).
        ///   - options: timing.
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
        Case("plainSubscribersEachGetEveryMessage", plainSubscribersEachGetEveryMessage),
        Case("queueGroupGetsEachMessageOnce", queueGroupGetsEachMessageOnce),
        Case("headersAndBodyPreserved", headersAndBodyPreserved),
        Case("topicsAreIsolated", topicsAreIsolated),
        Case("publishWithoutSubscribers", publishWithoutSubscribers),
        Case("cancelledSubscriptionStops", cancelledSubscriptionStops),
    ]

    // MARK: - Support

    /// What a case works with.
    final class Context: Sendable {
        let makeBroker: @Sendable () async throws -> any Broker
        let options: Options
        private let collectors = MutexBox<[EventCollector<BrokerMessage>]>([])

        init(makeBroker: @escaping @Sendable () async throws -> any Broker, options: Options) {
            self.makeBroker = makeBroker
            self.options = options
        }

        func broker() async throws -> any Broker {
            let make = makeBroker
            return try await withTimeout(options.timeout, "makeBroker()") { try await make() }
        }

        func subscribe(_ broker: any Broker, _ topic: String, queue: String? = nil) async throws -> EventCollector<BrokerMessage> {
            let subscription = try await withTimeout(options.timeout, "subscribe(\(topic), queue: \(queue ?? "nil"))") {
                try await broker.subscribe(topic, queue: queue)
            }
            let collector = EventCollector(subscription)
            collectors.withLock { $0.append(collector) }
            return collector
        }

        func publish(_ broker: any Broker, _ topic: String, _ body: String, headers: Metadata = Metadata()) async throws {
            let message = BrokerMessage(headers: headers, body: ByteBuffer(string: body))
            try await withTimeout(options.timeout, "publish(\(topic), \(body))") { try await broker.publish(topic, message: message) }
        }

        func cancelAll() {
            for collector in collectors.withLock({ $0 }) { collector.cancel() }
        }
    }

    static func describe(_ message: BrokerMessage) -> String {
        String(buffer: message.body)
    }

    static func bodies(_ messages: [BrokerMessage]) -> [String] {
        messages.map(describe)
    }

    /// Waits until `collector` holds every body of `expected` (in any order).
    static func waitForAll(_ collector: EventCollector<BrokerMessage>, _ expected: [String], who: String, _ context: Context) async throws {
        try await collector.wait(for: "\(who) to get \(expected)", timeout: context.options.timeout, describe: describe) {
            Set(bodies($0)).isSuperset(of: expected)
        }
    }

    // MARK: - Cases

    static func plainSubscribersEachGetEveryMessage(_ context: Context) async throws {
        let subscriberBroker = try await context.broker()
        let publisher = try await context.broker()
        let topic = uniqueName("plain")
        let first = try await context.subscribe(subscriberBroker, topic)
        let second = try await context.subscribe(subscriberBroker, topic)
        let expected = (0..<5).map { "m\($0)" }
        for body in expected { try await context.publish(publisher, topic, body) }
        try await waitForAll(first, expected, who: "the first subscriber", context)
        try await waitForAll(second, expected, who: "the second subscriber", context)
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(bodies(first.items).sorted(), expected, "messages of the first subscriber")
        try expectEqual(bodies(second.items).sorted(), expected, "messages of the second subscriber")
    }

    static func queueGroupGetsEachMessageOnce(_ context: Context) async throws {
        let broker = try await context.broker()
        let topic = uniqueName("queue")
        let queue = uniqueName("group")
        let memberA = try await context.subscribe(broker, topic, queue: queue)
        let memberB = try await context.subscribe(broker, topic, queue: queue)
        let plain = try await context.subscribe(broker, topic)
        let expected = (0..<10).map { "q\($0)" }.sorted()
        for body in expected { try await context.publish(broker, topic, body) }
        try await waitForAll(plain, expected, who: "the plain subscriber beside the group", context)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: context.options.timeout)
        while Set(bodies(memberA.items) + bodies(memberB.items)).count < expected.count, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: context.options.quietPeriod)
        let a = bodies(memberA.items)
        let b = bodies(memberB.items)
        try expectEqual((a + b).sorted(), expected, "messages the queue group got in total (member A \(a), member B \(b)); each exactly once")
        try expectEqual(bodies(plain.items).sorted(), expected, "messages of the plain subscriber")
    }

    static func headersAndBodyPreserved(_ context: Context) async throws {
        let broker = try await context.broker()
        let topic = uniqueName("headers")
        let subscriber = try await context.subscribe(broker, topic)
        var headers = Metadata()
        headers["X-Conformance"] = "Value With Spaces"
        headers["Content-Type"] = "application/octet-stream"
        headers["Micro-Id"] = "id-123"
        var body = ByteBuffer()
        body.writeBytes(Array(0...255) as [UInt8])
        let message = BrokerMessage(headers: headers, body: body)
        try await withTimeout(context.options.timeout, "publish") { try await broker.publish(topic, message: message) }
        let got = try await subscriber.wait(for: "one message", timeout: context.options.timeout, describe: { "\($0.body.readableBytes) bytes, headers \($0.headers)" }) {
            !$0.isEmpty
        }
        let received = got[0]
        for field in headers {
            try expectEqual(received.headers[field.name.lowercased()], field.value, "header \(field.name) (looked up in lower case); received headers \(received.headers)")
        }
        try expect(Array(received.body.readableBytesView) == Array(0...255) as [UInt8], "the body of 256 distinct bytes changed: got \(received.body.readableBytes) bytes")
    }

    static func topicsAreIsolated(_ context: Context) async throws {
        let broker = try await context.broker()
        let topicA = uniqueName("topicA")
        let topicB = uniqueName("topicB")
        let onA = try await context.subscribe(broker, topicA)
        let onB = try await context.subscribe(broker, topicB)
        try await context.publish(broker, topicA, "for-a")
        try await waitForAll(onA, ["for-a"], who: "the subscriber of \(topicA)", context)
        try await Task.sleep(for: context.options.quietPeriod)
        try expect(onB.items.isEmpty, "the subscriber of \(topicB) got \(bodies(onB.items)) published to \(topicA)")
        try await context.publish(broker, topicB, "for-b")
        try await waitForAll(onB, ["for-b"], who: "the subscriber of \(topicB)", context)
        try await Task.sleep(for: context.options.quietPeriod)
        try expectEqual(bodies(onA.items), ["for-a"], "messages of the subscriber of \(topicA)")
    }

    static func publishWithoutSubscribers(_ context: Context) async throws {
        let broker = try await context.broker()
        try await context.publish(broker, uniqueName("nobody"), "into the void")
    }

    static func cancelledSubscriptionStops(_ context: Context) async throws {
        let broker = try await context.broker()
        let topic = uniqueName("cancel")
        let queue = uniqueName("group")
        let leaving = try await context.subscribe(broker, topic)
        let staying = try await context.subscribe(broker, topic)
        let leavingMember = try await context.subscribe(broker, topic, queue: queue)
        let stayingMember = try await context.subscribe(broker, topic, queue: queue)
        try await context.publish(broker, topic, "before")
        try await waitForAll(leaving, ["before"], who: "the subscriber about to leave", context)
        try await waitForAll(staying, ["before"], who: "the subscriber that stays", context)
        leaving.cancel()
        leavingMember.cancel()
        try await leaving.waitForEnd(timeout: context.options.timeout, what: "a cancelled subscription to end")
        try await leavingMember.waitForEnd(timeout: context.options.timeout, what: "a cancelled queue member's subscription to end")
        let after = (0..<4).map { "after\($0)" }
        for body in after { try await context.publish(broker, topic, body) }
        try await waitForAll(staying, after, who: "the subscriber that stays", context)
        try await waitForAll(stayingMember, after, who: "the remaining queue member (the other left, so it must get all)", context)
    }
}
