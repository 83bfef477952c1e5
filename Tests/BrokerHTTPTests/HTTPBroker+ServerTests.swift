@testable import BrokerHTTP
import MicroCore
import MicroTesting
import NIOCore
import Synchronization
import Testing

/// The subscriber's listener, spoken to byte by byte.
@Suite(.timeLimit(.minutes(1)))
struct HTTPBrokerServerTests {
    /// The body go-micro v5.7.0's `client.Publish` sent (GOMICRO.md §5), with its
    /// trailing newline; `Micro-ID` filled in.
    static func goMicroBody(topic: String) -> String {
        #"{"Header":{"Content-Type":"application/json","Micro-ID":"5d0d0c2e-1f4f-4b8e-9a57-2b1c0b7e0f31","Micro-Topic":"\#(topic)","X-Trace":"abc"},"Body":"eyJuYW1lIjoiQWRhIDAifQo="}"#
            + "\n"
    }

    /// A POST exactly as go-micro's `net/http` client writes it.
    static func goMicroRequest(port: Int, id: String, body: String) -> String {
        "POST /?id=\(id) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: Go-http-client/1.1\r\n"
            + "Content-Length: \(body.utf8.count)\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n" + body
    }

    /// A subscriber whose consumer records each message and settles it as told.
    final class Recorder: Sendable {
        let messages = Mutex<[BrokerMessage]>([])
        let reject = Mutex(false)
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(_ subscription: BrokerSubscription) {
            let consumer = Task { [self] in
                _ = try? await subscription.handle { message in
                    messages.withLock { $0.append(message) }
                    if reject.withLock({ $0 }) { throw ConformanceFailure("rejected by the test") }
                }
            }
            task.withLock { $0 = consumer }
        }

        /// Stops consuming (which ends the subscription).
        func cancel() {
            task.withLock { $0 }?.cancel()
        }
    }

    /// A started broker with one subscription, its node id and port.
    static func subscriber(
        _ fixture: BrokerFixture, topic: String
    ) async throws -> (broker: HTTPBroker, subscription: BrokerSubscription, id: String, port: Int) {
        let broker = try await fixture.make()
        let subscription = try await broker.subscribe(topic, queue: nil)
        let node = try #require(try await fixture.registry.getService("micro.http.broker").flatMap(\.nodes).first { $0.metadata["topic"] == topic })
        return (broker, subscription, node.id, try #require(broker.advertisedAddress).port)
    }

    @Test func goMicroDeliveryReachesSubscriber() async throws {
        let fixture = BrokerFixture()
        try await fixture.run { fixture in
            let topic = "greeter.greetings"
            let (_, subscription, id, port) = try await HTTPBrokerServerTests.subscriber(fixture, topic: topic)
            let recorder = Recorder(subscription)
            defer { recorder.cancel() }
            let response = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send(HTTPBrokerServerTests.goMicroRequest(port: port, id: id, body: HTTPBrokerServerTests.goMicroBody(topic: topic)))
                return try await connection.response()
            }
            #expect(response.status == 200, "\(response.head)")
            #expect(response.body.isEmpty)
            let message = try #require(recorder.messages.withLock { $0.first })
            #expect(String(buffer: message.body) == "{\"name\":\"Ada 0\"}\n")
            #expect(message.headers["micro-id"] == "5d0d0c2e-1f4f-4b8e-9a57-2b1c0b7e0f31")
            #expect(message.headers["Micro-Id"] == "5d0d0c2e-1f4f-4b8e-9a57-2b1c0b7e0f31")
            #expect(message.headers["x-trace"] == "abc")
            #expect(message.headers["content-type"] == "application/json")
            #expect(message.headers["Micro-Topic"] == topic)
        }
    }

    @Test func badInputIsAnsweredAndTheListenerKeepsServing() async throws {
        let fixture = BrokerFixture { $0.maxBodySize = 1024 }
        try await fixture.run { fixture in
            let topic = uniqueName("bad")
            let (_, subscription, id, port) = try await HTTPBrokerServerTests.subscriber(fixture, topic: topic)
            let recorder = Recorder(subscription)
            defer { recorder.cancel() }
            let good = HTTPBrokerServerTests.goMicroBody(topic: topic)
            func post(_ body: String, id: String = id, method: String = "POST") -> String {
                "\(method) /?id=\(id) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let cases: [(String, String, Int, String)] = [
                ("GET", "GET /?id=\(id) HTTP/1.1\r\nHost: x\r\n\r\n", 405, "POST"),
                ("PUT", post(good, method: "PUT"), 405, "POST"),
                ("unknown id", post(good, id: "nobody-1"), 404, "nobody-1"),
                ("no id", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(good.utf8.count)\r\n\r\n\(good)", 404, "id"),
                ("not JSON", post("hello"), 400, "JSON"),
                ("JSON array", post("[1,2]"), 400, "Header"),
                ("Header not strings", post(#"{"Header":{"Micro-Topic":1},"Body":""}"#), 400, "Header"),
                ("Body not base64", post(#"{"Header":{"Micro-Topic":"\#(topic)"},"Body":"!!!not base64"}"#), 400, "base64"),
                ("no topic", post(#"{"Header":{},"Body":"aGk="}"#), 400, "Micro-Topic"),
                ("other topic", post(#"{"Header":{"Micro-Topic":"elsewhere"},"Body":"aGk="}"#), 400, "elsewhere"),
            ]
            // All on one keep-alive connection: each answer leaves it open.
            try await RawHTTPConnection.with(port: port) { connection in
                for (name, request, status, mentions) in cases {
                    try await connection.send(request)
                    let response = try await connection.response()
                    #expect(response.status == status, "\(name): \(response.head)")
                    #expect(response.body.contains(mentions), "\(name): the answer \(response.body.debugDescription) should mention \(mentions)")
                }
                try await connection.send(post(good))
                #expect(try await connection.response().status == 200)
            }
            #expect(recorder.messages.withLock { $0.count } == 1, "only the good message is delivered")
            // Over the limit: 413 and the connection closed; the listener goes on.
            let big = String(repeating: "x", count: 2048)
            let tooLarge = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send("POST /?id=\(id) HTTP/1.1\r\nHost: x\r\nContent-Length: \(big.utf8.count)\r\n\r\n")
                let response = try await connection.response()
                _ = try await connection.closed(timeout: .seconds(5))
                return response
            }
            #expect(tooLarge.status == 413)
            #expect(tooLarge.body.contains("1024"))
            // Chunked, so the length is found out while reading.
            let chunked = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send("POST /?id=\(id) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n\(big)\r\n0\r\n\r\n")
                return try await connection.response()
            }
            #expect(chunked.status == 413)
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send(post(good))
                #expect(try await connection.response().status == 200)
            }
            #expect(recorder.messages.withLock { $0.count } == 2)
        }
    }

    @Test func rejectionAndBusyAreNon200() async throws {
        let fixture = BrokerFixture { $0.capacity = 1 }
        try await fixture.run { fixture in
            let topic = uniqueName("reject")
            let (_, subscription, id, port) = try await HTTPBrokerServerTests.subscriber(fixture, topic: topic)
            let body = HTTPBrokerServerTests.goMicroBody(topic: topic)
            // Nobody consumes yet: the first delivery waits in the buffer, the second is busy.
            let waiting = Task {
                try await RawHTTPConnection.with(port: port) { connection in
                    try await connection.send(HTTPBrokerServerTests.goMicroRequest(port: port, id: id, body: body))
                    return try await connection.response().status
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let busy = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send(HTTPBrokerServerTests.goMicroRequest(port: port, id: id, body: body))
                return try await connection.response()
            }
            #expect(busy.status == 503)
            #expect(busy.body.hasPrefix("busy:"))
            let recorder = Recorder(subscription)
            defer { recorder.cancel() }
            #expect(try await withTimeout(.seconds(5), "the buffered delivery's answer") { try await waiting.value } == 200)
            recorder.reject.withLock { $0 = true }
            let rejected = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send(HTTPBrokerServerTests.goMicroRequest(port: port, id: id, body: body))
                return try await connection.response()
            }
            #expect(rejected.status == 500)
            #expect(rejected.body.contains("rejected"))
        }
    }

    @Test func unsettledDeliveryTimesOut() async throws {
        let fixture = BrokerFixture { $0.deliveryTimeout = .milliseconds(300) }
        try await fixture.run { fixture in
            let topic = uniqueName("slow")
            let (_, subscription, id, port) = try await HTTPBrokerServerTests.subscriber(fixture, topic: topic)
            let response = try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send(HTTPBrokerServerTests.goMicroRequest(port: port, id: id, body: HTTPBrokerServerTests.goMicroBody(topic: topic)))
                return try await connection.response()
            }
            #expect(response.status == 504)
            _ = subscription
        }
    }

    @Test func stalledRequestIsCutOff() async throws {
        let fixture = BrokerFixture { $0.readTimeout = .milliseconds(300) }
        try await fixture.run { fixture in
            let topic = uniqueName("stalled")
            let (_, _, id, port) = try await HTTPBrokerServerTests.subscriber(fixture, topic: topic)
            let clock = ContinuousClock()
            let start = clock.now
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send("POST /?id=\(id) HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Header\"")
                _ = try await connection.closed(timeout: .seconds(5))
            }
            #expect(clock.now - start < .seconds(4))
            // The listener still serves.
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.response().status == 405)
            }
        }
    }

    @Test func queryIDIsDecodedAsGoEncodesIt() {
        #expect(HTTPBroker.queryEscaped("a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9")
        #expect(HTTPBroker.queryValue("id", in: "/?id=a+b%26c%3Dd%2F%C3%A9") == "a b&c=d/é")
        #expect(HTTPBroker.queryValue("id", in: "/?x=1&id=greeter.greetings-1") == "greeter.greetings-1")
        #expect(HTTPBroker.queryValue("id", in: "/") == nil)
    }
}
