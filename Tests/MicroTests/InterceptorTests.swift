import Micro
import MicroCore
import Testing

struct Tracing: ServerInterceptor, ClientInterceptor {
    let name: String
    let recorder: Recorder

    func intercept(_ context: ServerContext, next: (ServerContext) async throws -> Void) async throws {
        recorder.record("\(name) in")
        var context = context
        context.metadata["X-Seen-By"] = (context.metadata["X-Seen-By"].map { $0 + "," } ?? "") + name
        try await next(context)
        recorder.record("\(name) out")
    }

    func intercept(_ context: ClientContext, next: (ClientContext) async throws -> Void) async throws {
        recorder.record("\(name) in")
        var context = context
        context.metadata["X-Client-" + name] = "yes"
        try await next(context)
        recorder.record("\(name) out")
    }
}

struct Refuse: ServerInterceptor {
    func intercept(_ context: ServerContext, next: (ServerContext) async throws -> Void) async throws {
        guard context.metadata["Authorization"] == "Bearer ok" else { throw MicroError.unauthorized("missing token") }
        try await next(context)
    }
}

@Suite("Interceptors")
struct InterceptorTests {
    let harness = Harness()

    @Test func serverInterceptorsRunInOrderAndChangeMetadata() async throws {
        let recorder = Recorder()
        var router = Router()
        router.intercept(Tracing(name: "A", recorder: recorder))
        router.intercept(Tracing(name: "B", recorder: recorder))
        router.handle("Order.Check") { (_: Hello, context) in
            recorder.record("handler")
            return Greeting(msg: context.metadata["x-seen-by"] ?? "")
        }
        let client = harness.runtime().client
        let answer = try await withServices([try harness.service("order", router)]) {
            try await client.call("order", "Order.Check", request: Hello(name: "x"), responseType: Greeting.self)
        }
        #expect(recorder.all == ["A in", "B in", "handler", "B out", "A out"])
        #expect(answer.msg == "A,B")
    }

    @Test func clientInterceptorsRunInOrderAndAddMetadata() async throws {
        let recorder = Recorder()
        var router = Router()
        router.handle("Order.Check") { (_: Hello, context) in
            Greeting(msg: [context.metadata["X-Client-A"], context.metadata["X-Client-B"]].compactMap { $0 }.joined(separator: ","))
        }
        let client = harness.runtime(
            interceptors: [Tracing(name: "A", recorder: recorder), Tracing(name: "B", recorder: recorder)]
        ).client
        let answer = try await withServices([try harness.service("order", router)]) {
            try await client.call("order", "Order.Check", request: Hello(name: "x"), responseType: Greeting.self)
        }
        #expect(recorder.all == ["A in", "B in", "B out", "A out"])
        #expect(answer.msg == "yes,yes")
    }

    @Test func anInterceptorCanRefuseACall() async throws {
        var router = Router()
        router.intercept(Refuse())
        router.handle("Secret.Get") { (_: Hello, _) in Greeting(msg: "secret") }
        let client = harness.runtime().client
        try await withServices([try harness.service("secret", router)]) {
            let error = await microError {
                _ = try await client.call("secret", "Secret.Get", request: Hello(name: "x"), responseType: Greeting.self)
            }
            #expect(error?.code == 401)
            let answer = try await client.call(
                "secret", "Secret.Get", request: Hello(name: "x"), responseType: Greeting.self,
                options: CallOptions(metadata: ["Authorization": "Bearer ok"])
            )
            #expect(answer.msg == "secret")
        }
    }
}
