#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@testable import BrokerHTTP
import MicroCore
import MicroMemory
import MicroTesting
import NIOCore
import Testing

/// What a publisher sends, and how it finds and fails over subscribers.
@Suite(.timeLimit(.minutes(1)))
struct HTTPBrokerPublishTests {
    /// Registers a subscriber node at `address`, as a go-micro subscriber would.
    static func registerNode(
        _ registry: any Registry, id: String, address: String, topic: String, version: String = "ff.http.broadcast"
    ) async throws {
        try await registry.register(
            ServiceRecord(
                name: "micro.http.broker", version: version,
                nodes: [Node(id: id, address: address, metadata: ["broker": "http", "topic": topic, "secure": "false"])]
            ),
            ttl: .seconds(60)
        )
    }

    @Test func postHasGoMicrosShape() async throws {
        let capture = try await CaptureServer.start()
        let fixture = BrokerFixture()
        do {
            try await fixture.run { fixture in
                let topic = "greeter.greetings"
                let id = "greeter.greetings-0b7e0f31-aaaa-4b8e-9a57-2b1c0b7e0f31"
                try await HTTPBrokerPublishTests.registerNode(fixture.registry, id: id, address: "127.0.0.1:\(capture.port)", topic: topic)
                let publisher = try await fixture.make()
                var headers = Metadata()
                headers["Content-Type"] = "application/json"
                headers["Micro-ID"] = "5d0d0c2e-1f4f-4b8e-9a57-2b1c0b7e0f31"
                headers["X-Trace"] = "abc"
                let message = BrokerMessage(headers: headers, body: ByteBuffer(string: "{\"name\":\"Ada 0\"}\n"))
                try await withTimeout(.seconds(5), "publish") { try await publisher.publish(topic, message: message) }
                let request = try #require(capture.requests.first)
                let parts = request.components(separatedBy: "\r\n\r\n")
                let lines = parts[0].components(separatedBy: "\r\n")
                #expect(lines[0] == "POST /?id=\(id) HTTP/1.1")
                let fields = Dictionary(lines.dropFirst().map { line -> (String, String) in
                    let colon = line.firstIndex(of: ":")!
                    return (line[..<colon].lowercased(), String(line[line.index(after: colon)...].drop { $0 == " " }))
                }, uniquingKeysWith: { first, _ in first })
                #expect(fields["content-type"] == "application/json")
                #expect(fields["host"] == "127.0.0.1:\(capture.port)")
                #expect(fields["transfer-encoding"] == nil)
                // Exactly the body go-micro v5.7.0 sent (GOMICRO.md §5), byte for byte.
                let expected = HTTPBrokerServerTests.goMicroBody(topic: topic)
                #expect(fields["content-length"] == "\(expected.utf8.count)")
                #expect(parts[1] == expected)
            }
            await capture.close()
        } catch {
            await capture.close()
            throw error
        }
    }

    @Test func queueGroupFailsOverFromDeadMember() async throws {
        let fixture = BrokerFixture { $0.retryBackoff = .milliseconds(10) }
        try await fixture.run { fixture in
            let topic = uniqueName("failover")
            let subscriberBroker = try await fixture.make()
            let subscription = try await subscriberBroker.subscribe(topic, queue: "workers")
            let recorder = HTTPBrokerServerTests.Recorder(subscription)
            defer { recorder.cancel() }
            // A member that crashed without deregistering: nothing listens at its address.
            let deadPort = try freePort()
            try await HTTPBrokerPublishTests.registerNode(
                fixture.registry, id: "\(topic)-dead", address: "127.0.0.1:\(deadPort)", topic: topic, version: "workers"
            )
            let publisher = try await fixture.make()
            try await waitFor("the dead member in the cache", timeout: .seconds(5)) {
                try await publisher.targets(of: topic).groups.first?.1.count == 2
            }
            for index in 0..<20 {
                try await withTimeout(.seconds(5), "publish \(index)") {
                    try await publisher.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "m\(index)")))
                }
            }
            #expect(Set(recorder.messages.withLock { $0.map { String(buffer: $0.body) } }) == Set((0..<20).map { "m\($0)" }))
        }
    }

    @Test func failureNamesWhatWasNotDelivered() async throws {
        let fixture = BrokerFixture {
            $0.retryBackoff = .milliseconds(10)
            $0.publishAttempts = 2
        }
        try await fixture.run { fixture in
            let topic = uniqueName("undeliverable")
            let deadPort = try freePort()
            try await HTTPBrokerPublishTests.registerNode(
                fixture.registry, id: "\(topic)-dead", address: "127.0.0.1:\(deadPort)", topic: topic, version: "workers"
            )
            let publisher = try await fixture.make()
            let error = await #expect(throws: BrokerError.self) {
                try await withTimeout(.seconds(10), "publish") { try await publisher.publish(topic, message: BrokerMessage()) }
            }
            #expect(error?.code == .notDelivered)
            #expect(error?.message.contains("queue group workers") == true)
            #expect(error?.message.contains("\(topic)-dead") == true)
        }
    }

    @Test func warmPublishesMakeNoRegistryRequest() async throws {
        let counting = CountingRegistry(MemoryRegistry())
        let fixture = BrokerFixture(registry: counting)
        try await fixture.run { fixture in
            let topic = uniqueName("warm")
            let broker = try await fixture.make()
            let subscription = try await broker.subscribe(topic, queue: nil)
            let recorder = HTTPBrokerServerTests.Recorder(subscription)
            defer { recorder.cancel() }
            try await broker.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "first")))
            let lookups = counting.lookups
            for index in 0..<50 {
                try await withTimeout(.seconds(5), "publish \(index)") {
                    try await broker.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "m\(index)")))
                }
            }
            #expect(counting.lookups == lookups)
            #expect(recorder.messages.withLock { $0.count } == 51)
        }
    }

    @Test func registryDownAndNothingCachedFails() async throws {
        let counting = CountingRegistry(MemoryRegistry())
        let fixture = BrokerFixture(registry: counting)
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            counting.setFailing(true)
            await #expect(throws: MicroError.self) {
                try await withTimeout(.seconds(10), "publish") { try await broker.publish("t", message: BrokerMessage()) }
            }
        }
    }

    @Test func silentSubscriberIsBoundedByTheDeliveryTimeout() async throws {
        let silent = try await CaptureServer.start(answering: false)
        let fixture = BrokerFixture {
            $0.deliveryTimeout = .milliseconds(300)
            $0.retryBackoff = .milliseconds(10)
        }
        do {
            try await fixture.run { fixture in
                let topic = uniqueName("silent")
                try await HTTPBrokerPublishTests.registerNode(
                    fixture.registry, id: "\(topic)-silent", address: "127.0.0.1:\(silent.port)", topic: topic, version: "workers"
                )
                let publisher = try await fixture.make()
                let clock = ContinuousClock()
                let start = clock.now
                let error = await #expect(throws: BrokerError.self) {
                    try await withTimeout(.seconds(10), "publish") { try await publisher.publish(topic, message: BrokerMessage()) }
                }
                #expect(error?.code == .notDelivered)
                // Three attempts of 300 ms and two short pauses.
                #expect(clock.now - start < .seconds(3))
                #expect(silent.requests.count == 3)
            }
            await silent.close()
        } catch {
            await silent.close()
            throw error
        }
    }

    @Test func fireAndForgetReturnsBeforeDelivery() async throws {
        let fixture = BrokerFixture { $0.fireAndForget = true }
        try await fixture.run { fixture in
            let topic = uniqueName("forget")
            let broker = try await fixture.make()
            let subscription = try await broker.subscribe(topic, queue: "workers")
            // Nobody consumes yet: an acknowledged publish would wait.
            try await withTimeout(.seconds(5), "a fire-and-forget publish") {
                try await broker.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "later")))
            }
            let recorder = HTTPBrokerServerTests.Recorder(subscription)
            defer { recorder.cancel() }
            try await waitFor("the message to arrive after publish returned", timeout: .seconds(5)) {
                recorder.messages.withLock { $0.map { String(buffer: $0.body) } } == ["later"]
            }
            // A failure is logged, not thrown.
            try await HTTPBrokerPublishTests.registerNode(
                fixture.registry, id: "\(topic)-dead", address: "127.0.0.1:\(try freePort())", topic: "\(topic).dead"
            )
            try await broker.publish("\(topic).dead", message: BrokerMessage())
        }
    }
}
