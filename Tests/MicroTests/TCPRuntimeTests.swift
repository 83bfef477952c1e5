import CodecJSON
import Micro
import MicroCore
import MicroMemory
import Synchronization
import Testing
import TransportTCP

/// Counts the connections a client dials.
final class CountingTransport: Transport {
    let base: any Transport
    let dials = Atomic<Int>(0)

    init(_ base: any Transport) {
        self.base = base
    }

    func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        dials.add(1, ordering: .relaxed)
        return try await base.dial(address, timeout: timeout)
    }

    func listen(_ address: String) async throws -> any TransportListener {
        try await base.listen(address)
    }
}

@Suite("The runtime over TCP")
struct TCPRuntimeTests {
    @Test func aThousandConcurrentCallsShareAHandfulOfConnections() async throws {
        let registry = MemoryRegistry()
        let transport = CountingTransport(TCPTransport())
        let runtime = MicroRuntime(registry: registry, transport: transport, codecs: [JSONCodec()], logger: quiet)
        var router = Router()
        router.handle("Echo.Call") { (request: Hello, _) in
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...5)))
            return Greeting(msg: request.name)
        }
        let service = MicroService(configuration: .init(name: "echo"), router: router, runtime: runtime, logger: quiet)
        let mismatches = try await withServices([service]) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        // A generous timeout: this is about sharing connections, and a
                        // loaded 2-core machine may take seconds for a thousand calls.
                        let answer = try await runtime.client.call(
                            "echo", "Echo.Call", request: Hello(name: "\(index)"), responseType: Greeting.self,
                            options: CallOptions(timeout: .seconds(60))
                        )
                        return answer.msg == "\(index)"
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
        }
        #expect(mismatches == 0, "every caller gets its own answer")
        let dials = transport.dials.load(ordering: .relaxed)
        #expect(dials >= 1 && dials <= RPCClient.Configuration().poolSize, "\(dials) connections for 1,000 calls")
    }

    @Test func aCallerThatGivesUpCancelsTheServersHandler() async throws {
        let registry = MemoryRegistry()
        let runtime = MicroRuntime(registry: registry, transport: TCPTransport(), codecs: [JSONCodec()], logger: quiet)
        let events = Recorder()
        var router = Router()
        router.handle("Hang.Call") { (_: Hello, _) -> Greeting in
            events.record("started")
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                events.record("cancelled")
                throw error
            }
            return Greeting(msg: "never")
        }
        let service = MicroService(configuration: .init(name: "hang"), router: router, runtime: runtime, logger: quiet)
        try await withServices([service]) {
            // A deadline far off, so that only the caller's giving up can end the handler
            // in time: its task is cancelled once the handler has started.
            let call = Task {
                try await runtime.client.call(
                    "hang", "Hang.Call", request: Hello(name: "x"), responseType: Greeting.self,
                    options: CallOptions(timeout: .seconds(60)))
            }
            try await events.wait(for: 1, timeout: .seconds(10))
            call.cancel()
            _ = await call.result
            try await events.wait(for: 2, timeout: .seconds(10))
            #expect(events.all == ["started", "cancelled"])
        }
    }
}

@Suite("Abandoned streams over TCP")
struct AbandonedStreamTests {
    struct GaveUp: Error {}

    @Test func aStreamWhoseCallerThrowsIsResetAndTheHandlerCancelled() async throws {
        let runtime = MicroRuntime(registry: MemoryRegistry(), transport: TCPTransport(), codecs: [JSONCodec()], logger: quiet)
        let events = Recorder()
        var router = Router()
        router.stream("Feed.Follow") { (requests: ServerRequestStream<Hello>, responses: ServerResponseWriter<Greeting>, _) in
            events.record("started")
            do {
                for try await request in requests { try await responses.send(Greeting(msg: request.name)) }
                events.record("client ended")
            } catch {
                events.record("cancelled")
                throw error
            }
        }
        let service = MicroService(configuration: .init(name: "feed"), router: router, runtime: runtime, logger: quiet)
        try await withServices([service]) {
            await #expect(throws: GaveUp.self) {
                try await runtime.client.stream(
                    "feed", "Feed.Follow", requestType: Hello.self, responseType: Greeting.self, options: CallOptions()
                ) { stream in
                    try await stream.send(Hello(name: "one"))
                    _ = try await stream.receive()
                    throw GaveUp()  // leaves without closing its side
                }
            }
            try await events.wait(for: 2, timeout: .seconds(10))
            #expect(events.all == ["started", "cancelled"], "without a reset the handler would see an ordinary end of its requests")
        }
    }
}
