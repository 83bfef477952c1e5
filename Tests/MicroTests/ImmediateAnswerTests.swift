import CodecJSON
import Foundation
import Micro
import MicroCore
import MicroMemory
import NIOCore
import Synchronization
import Testing
import TransportTCP

/// Synchronous handlers answered at once (`RPCServer.answerImmediately`), and the same
/// calls over TCP, where the listener answers them without a task.
@Suite("Immediate answers of synchronous handlers")
struct ImmediateAnswerTests {
    struct Passing: ServerInterceptor {
        func intercept(_ context: ServerContext, next: (ServerContext) async throws -> Void) async throws {
            try await next(context)
        }
    }

    struct Failure: Error {}

    /// What a handler saw of its call context.
    final class Seen: Sendable {
        let value = Mutex<(Metadata?, Bool)>((nil, false))
    }

    static func server(_ configure: (inout Router) -> Void) -> RPCServer {
        var router = Router()
        configure(&router)
        return RPCServer(name: "greeter", router: router, codecs: [JSONCodec()], client: Harness().runtime().client, logger: quiet)
    }

    /// A request as the client sends it.
    static func request(
        _ endpoint: String, body: String = #"{"name":"Ada"}"#, timeout: Duration? = nil, contentType: String = "application/json"
    ) -> TransportMessage {
        var headers: Metadata = [
            MicroHeader.service: "greeter", MicroHeader.endpoint: endpoint, MicroHeader.method: endpoint,
            MicroHeader.id: "7", MicroHeader.contentType: contentType, "X-Trace": "abc",
        ]
        if let timeout { headers[MicroHeader.timeout] = "\(timeout.wholeNanoseconds)" }
        return TransportMessage(headers: headers, body: ByteBuffer(string: body))
    }

    static func error(of reply: TransportMessage?) -> MicroError? {
        reply?.headers[MicroHeader.error].map(MicroError.parse)
    }

    @Test func aSynchronousHandlerIsAnsweredWithTheCallsIdsAndContentType() throws {
        let server = Self.server { router in
            router.handle("Greeter.Hello") { (request: Hello, context) in
                Greeting(msg: "Hello \(request.name), \(context.metadata["x-trace"] ?? "no trace")")
            }
        }
        let reply = try #require(server.answerImmediately(Self.request("Greeter.Hello")))
        #expect(reply.headers[MicroHeader.id] == "7")
        #expect(reply.headers["X-Micro-Id"] == "7")
        #expect(reply.headers[MicroHeader.contentType] == "application/json")
        #expect(reply.headers[MicroHeader.error] == nil)
        #expect(try JSONCodec().decode(Greeting.self, from: reply.body) == Greeting(msg: "Hello Ada, abc"))
    }

    @Test func theHandlerSeesTheCallContext() throws {
        let seen = Seen()
        let server = Self.server { router in
            router.handle("Greeter.Hello") { (request: Hello, context) in
                seen.value.withLock { $0 = (CallContext.current?.metadata, CallContext.current?.deadline == context.deadline) }
                return Greeting(msg: request.name)
            }
        }
        _ = try #require(server.answerImmediately(Self.request("Greeter.Hello", timeout: .seconds(5))))
        let (metadata, sameDeadline) = seen.value.withLock { $0 }
        #expect(metadata?["x-trace"] == "abc", "outgoing calls inherit the caller's metadata")
        #expect(sameDeadline, "outgoing calls inherit the caller's deadline")
    }

    @Test func failuresAreAnsweredAsHandleWouldAnswerThem() throws {
        let server = Self.server { router in
            router.handle("Greeter.Missing") { (_: Hello, _) -> Greeting in throw MicroError.notFound("no such greeting") }
            router.handle("Greeter.Broken") { (_: Hello, _) -> Greeting in throw Failure() }
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        }
        let missing = server.answerImmediately(Self.request("Greeter.Missing"))
        #expect(Self.error(of: missing)?.code == 404)
        #expect(Self.error(of: missing)?.id == "greeter", "the server's name fills in an empty id")
        #expect(missing?.body.readableBytes == 0)
        #expect(Self.error(of: server.answerImmediately(Self.request("Greeter.Broken")))?.code == 500)
        let undecodable = server.answerImmediately(Self.request("Greeter.Hello", body: "[1, 2"))
        #expect(Self.error(of: undecodable)?.code == 400)
        #expect(Self.error(of: undecodable)?.detail.contains("could not decode request") == true)
    }

    @Test func anAnswerReadyAfterTheDeadlineIsATimeout() throws {
        let server = Self.server { router in
            router.handle("Greeter.Slow") { (request: Hello, _) in
                Thread.sleep(forTimeInterval: 0.05)
                return Greeting(msg: request.name)
            }
        }
        let reply = server.answerImmediately(Self.request("Greeter.Slow", timeout: .milliseconds(5)))
        #expect(Self.error(of: reply)?.code == 408)
        #expect(Self.error(of: reply)?.detail == "Greeter.Slow: deadline exceeded")
    }

    @Test func everyOtherCallIsLeftToHandle() {
        let plain = Self.server { router in
            router.handle("Greeter.Async") { (request: Hello, _) in
                await Task.yield()
                return Greeting(msg: request.name)
            }
            router.stream("Greeter.Stream") { (_: ServerRequestStream<Hello>, _: ServerResponseWriter<Greeting>, _) in }
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        }
        #expect(plain.answerImmediately(Self.request("Greeter.Async")) == nil, "an asynchronous handler needs a task")
        #expect(plain.answerImmediately(Self.request("Greeter.Stream")) == nil, "a stream handler needs a task")
        #expect(plain.answerImmediately(Self.request("Greeter.Nope")) == nil, "an unknown endpoint is answered by handle(_:)")
        #expect(plain.answerImmediately(Self.request("Greeter.Hello", contentType: "application/x-nope")) == nil,
                "an unknown codec is answered by handle(_:)")
        let intercepted = Self.server { router in
            router.intercept(Passing())
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        }
        #expect(intercepted.answerImmediately(Self.request("Greeter.Hello")) == nil, "interceptors are asynchronous")
    }

    // MARK: Over a transport

    static func greeter() -> Router {
        var router = Router()
        router.handle("Greeter.Hello") { (request: Hello, _) in
            // An immediate answer runs outside any task.
            let inTask = withUnsafeCurrentTask { $0 != nil }
            return Greeting(msg: "Hello \(request.name) \(inTask ? "in a task" : "without a task")")
        }
        router.handle("Greeter.Refuse") { (_: Hello, _) -> Greeting in throw MicroError.forbidden("not you") }
        return router
    }

    @Test func overTCPASynchronousHandlerRunsWithoutATask() async throws {
        let runtime = MicroRuntime(registry: MemoryRegistry(), transport: TCPTransport(), codecs: [JSONCodec()], logger: quiet)
        let service = MicroService(configuration: .init(name: "greeter"), router: Self.greeter(), runtime: runtime, logger: quiet)
        try await withServices([service]) {
            let answers = try await withThrowingTaskGroup(of: Greeting.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await runtime.client.call("greeter", "Greeter.Hello", request: Hello(name: "\(index)"), responseType: Greeting.self)
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1.msg) }
            }
            #expect(answers == Set((0..<200).map { "Hello \($0) without a task" }))
            let refused = await microError {
                _ = try await runtime.client.call("greeter", "Greeter.Refuse", request: Hello(name: "x"), responseType: Greeting.self)
            }
            #expect(refused?.code == 403)
            #expect(refused?.detail == "not you")
        }
    }

    @Test func inMemoryTheSameHandlerRunsInATask() async throws {
        let harness = Harness()
        let service = try harness.service("greeter", Self.greeter())
        try await withServices([service]) {
            let answer = try await harness.runtime().client.call("greeter", "Greeter.Hello", request: Hello(name: "Ada"), responseType: Greeting.self)
            #expect(answer.msg == "Hello Ada in a task", "the memory transport does not answer immediately")
        }
    }
}
