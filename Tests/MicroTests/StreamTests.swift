import Micro
import MicroCore
import Testing

/// Each test reads a response stream to its end; the time limit keeps a stream that
/// never ends from hanging the run.
@Suite("Bidirectional streams", .timeLimit(.minutes(1)))
struct StreamTests {
    let harness = Harness()

    func chat() throws -> MicroService {
        var router = Router()
        // Echoes every request, then a count once the client closes its side.
        router.stream("Chat.Echo") { (requests: ServerRequestStream<Hello>, responses: ServerResponseWriter<Greeting>, _) in
            var count = 0
            for try await request in requests {
                count += 1
                try await responses.send(Greeting(msg: "echo \(request.name)"))
            }
            try await responses.send(Greeting(msg: "count \(count)"))
        }
        // Answers two messages and ends the stream without waiting for the client.
        router.stream("Chat.Two") { (_: ServerRequestStream<Hello>, responses: ServerResponseWriter<Greeting>, _) in
            try await responses.send(Greeting(msg: "one"))
            try await responses.send(Greeting(msg: "two"))
        }
        router.stream("Chat.Fail") { (_: ServerRequestStream<Hello>, _: ServerResponseWriter<Greeting>, _) in
            throw MicroError.forbidden("no chatting")
        }
        return try harness.service("chat", router)
    }

    @Test func clientEndsWithEOSAndReadsEverything() async throws {
        let client = harness.runtime().client
        let answers = try await withServices([try chat()]) {
            try await client.stream("chat", "Chat.Echo", requestType: Hello.self, responseType: Greeting.self) { stream in
                for name in ["a", "b", "c"] { try await stream.send(Hello(name: name)) }
                try await stream.closeSend()
                var answers: [String] = []
                for try await answer in stream.responses { answers.append(answer.msg) }
                return answers
            }
        }
        #expect(answers == ["echo a", "echo b", "echo c", "count 3"])
    }

    @Test func serverEndsWithEOS() async throws {
        let client = harness.runtime().client
        let answers = try await withServices([try chat()]) {
            try await client.stream("chat", "Chat.Two", requestType: Hello.self, responseType: Greeting.self) { stream in
                var answers: [String] = []
                while let answer = try await stream.receive() { answers.append(answer.msg) }
                #expect(try await stream.receive() == nil, "stays ended")
                return answers
            }
        }
        #expect(answers == ["one", "two"])
    }

    @Test func aStreamHandlerErrorReachesTheClient() async throws {
        let client = harness.runtime().client
        let error = try await withServices([try chat()]) {
            await microError {
                try await client.stream("chat", "Chat.Fail", requestType: Hello.self, responseType: Greeting.self) { stream in
                    _ = try await stream.receive()
                }
            }
        }
        #expect(error?.code == 403)
        #expect(error?.detail == "no chatting")
    }

    @Test func streamEndpointsAreMarked() async throws {
        let records = try await withServices([try chat()]) { try await harness.registry.getService("chat") }
        let endpoint = try #require(records.first?.endpoints.first { $0.name == "Chat.Echo" })
        #expect(endpoint.metadata["stream"] == "true")
    }
}

@Suite("Publish and subscribe")
struct PubSubTests {
    let harness = Harness()

    @Test func queueGroupMembersShareAndPlainSubscribersGetAll() async throws {
        let group = Recorder()
        let plain = Recorder()
        func member(_ name: String) throws -> MicroService {
            var router = Router()
            router.subscribe("orders", queue: "workers") { (event: Hello, _) in group.record("\(name):\(event.name)") }
            return try harness.service("worker", router)
        }
        var auditRouter = Router()
        auditRouter.subscribe("orders") { (event: Hello, context) in
            plain.record("\(event.name):\(context.metadata["x-source"] ?? "")")
        }
        let audit = try harness.service("audit", auditRouter)
        let client = harness.runtime().client
        let count = 20
        try await withServices([try member("a"), try member("b"), audit]) {
            for index in 0..<count {
                try await client.publish("orders", Hello(name: "\(index)"), options: PublishOptions(metadata: ["X-Source": "test"]))
            }
            try await group.wait(for: count)
            try await plain.wait(for: count)
            try await Task.sleep(for: .milliseconds(100))  // a duplicate would arrive by now
        }
        let delivered = group.all.map { $0.split(separator: ":")[1] }
        #expect(delivered.count == count, "each message reaches exactly one member: \(group.all)")
        #expect(Set(delivered).count == count)
        #expect(Set(plain.all) == Set((0..<count).map { "\($0):test" }))
        #expect(plain.all.count == count)
    }

    @Test func withoutABrokerEventsTravelOverTheTransport() async throws {
        let group = Recorder()
        let plain = Recorder()
        func member(_ name: String) throws -> MicroService {
            var router = Router()
            router.subscribe("orders", queue: "workers") { (event: Hello, _) in group.record("\(name):\(event.name)") }
            return try harness.service("worker", router, withBroker: false)
        }
        var auditRouter = Router()
        auditRouter.subscribe("orders") { (event: Hello, _) in plain.record(event.name) }
        let audit = try harness.service("audit", auditRouter, withBroker: false)
        let client = harness.runtime(withBroker: false).client
        let count = 10
        try await withServices([try member("a"), try member("b"), audit]) {
            for index in 0..<count { try await client.publish("orders", Hello(name: "\(index)")) }
            try await client.publish("nobody-listens", Hello(name: "x"))
        }
        #expect(group.all.count == count, "each event reaches one member of the queue group: \(group.all)")
        #expect(Set(group.all.map { $0.split(separator: ":")[1] }).count == count)
        #expect(plain.all.sorted() == (0..<count).map { "\($0)" }.sorted())
    }

    @Test func subscriberEndpointsAreAdvertised() async throws {
        var router = Router()
        router.subscribe("orders", queue: "q") { (_: Hello, _) in }
        let records = try await withServices([try harness.service("sub", router)]) { try await harness.registry.getService("sub") }
        let endpoint = try #require(records.first?.endpoints.first)
        #expect(endpoint.metadata == ["topic": "orders", "subscriber": "true", "queue": "q"])
    }
}
