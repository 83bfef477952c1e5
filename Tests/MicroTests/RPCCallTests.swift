import Micro
import MicroCore
import NIOCore
import Testing

@Suite("Unary calls in one process")
struct RPCCallTests {
    let harness = Harness()

    func greeter() throws -> MicroService {
        var router = Router()
        router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: "Hello \(request.name)") }
        router.handle("Greeter.Fail") { (_: Hello, _) -> Greeting in
            throw MicroError.conflict("name taken", id: "greeter.custom")
        }
        router.handle("Greeter.Crash") { (_: Hello, _) -> Greeting in
            struct Broken: Error, CustomStringConvertible { var description: String { "disk on fire" } }
            throw Broken()
        }
        router.handle("Greeter.Metadata") { (_: Hello, context) in
            Greeting(msg: context.metadata["x-user"] ?? "none")
        }
        return try harness.service("greeter", router)
    }

    @Test func callsAHandlerThroughTheWholePath() async throws {
        let client = harness.runtime().client
        let greeting = try await withServices([try greeter()]) {
            try await client.call("greeter", "Greeter.Hello", request: Hello(name: "Ada"), responseType: Greeting.self)
        }
        #expect(greeting == Greeting(msg: "Hello Ada"))
    }

    @Test func registersTheNodeWithDescribedEndpoints() async throws {
        let service = try greeter()
        let records = try await withServices([service]) { try await harness.registry.getService("greeter") }
        let record = try #require(records.first)
        #expect(record.version == "latest")
        let node = try #require(record.nodes.first)
        #expect(node.id.hasPrefix("greeter-"))
        #expect(node.metadata["protocol"] == "mucp")
        let hello = try #require(record.endpoints.first { $0.name == "Greeter.Hello" })
        #expect(hello.request?.type == "Hello")
        #expect(hello.request?.values == [EndpointValue(name: "name", type: "string")])
        #expect(hello.response?.values == [EndpointValue(name: "msg", type: "string")])
        #expect(try await harness.registry.getService("greeter").isEmpty, "the node is deregistered on shutdown")
    }

    @Test func unknownServiceIs404() async throws {
        let error = await microError {
            _ = try await harness.runtime().client.call("nope", "Nope.Call", request: Hello(name: "x"), responseType: Greeting.self)
        }
        #expect(error?.code == 404)
        #expect(error?.detail == "service nope not found")
    }

    @Test func badInputIsAnsweredAndTheServerKeepsServing() async throws {
        let client = harness.runtime().client
        try await withServices([try greeter()]) {
            let unknown = await microError {
                _ = try await client.call("greeter", "Greeter.Nope", request: Hello(name: "x"), responseType: Greeting.self)
            }
            #expect(unknown?.code == 404)
            #expect(unknown?.detail.contains("Greeter.Nope") == true)

            let undecodable = await microError {
                _ = try await client.call("greeter", "Greeter.Hello", request: ["nom": "x"], responseType: Greeting.self)
            }
            #expect(undecodable?.code == 400)
            #expect(undecodable?.detail.contains("Hello") == true, "\(undecodable?.detail ?? "")")
            #expect(undecodable?.detail.contains("name") == true, "names the missing key: \(undecodable?.detail ?? "")")

            let crash = await microError {
                _ = try await client.call("greeter", "Greeter.Crash", request: Hello(name: "x"), responseType: Greeting.self)
            }
            #expect(crash?.code == 500)
            #expect(crash?.detail.contains("disk on fire") == true)
            #expect(crash?.id == "greeter")

            let answer = try await client.call("greeter", "Greeter.Hello", request: Hello(name: "still"), responseType: Greeting.self)
            #expect(answer.msg == "Hello still")
        }
    }

    @Test func handlerMicroErrorReachesTheCallerUnchanged() async throws {
        let client = harness.runtime().client
        let error = try await withServices([try greeter()]) {
            await microError {
                _ = try await client.call("greeter", "Greeter.Fail", request: Hello(name: "x"), responseType: Greeting.self)
            }
        }
        #expect(error == MicroError(id: "greeter.custom", code: 409, detail: "name taken"))
    }

    @Test func metadataTravelsToTheHandler() async throws {
        let client = harness.runtime().client
        let answer = try await withServices([try greeter()]) {
            try await client.call(
                "greeter", "Greeter.Metadata", request: Hello(name: "x"), responseType: Greeting.self,
                options: CallOptions(metadata: ["X-User": "ada"])
            )
        }
        #expect(answer.msg == "ada")
    }

    @Test func rawByteBuffersPassThroughTheCodec() async throws {
        var router = Router()
        router.handle("Echo.Bytes") { (request: ByteBuffer, _) in request }
        let client = harness.runtime().client
        let answer = try await withServices([try harness.service("echo", router)]) {
            try await client.call("echo", "Echo.Bytes", request: ByteBuffer(string: "raw"), responseType: ByteBuffer.self)
        }
        #expect(String(buffer: answer) == "raw")
    }

    @Test func callsSpreadOverNodes() async throws {
        let recorder = Recorder()
        func instance() throws -> MicroService {
            var router = Router()
            let id = Int.random(in: 0..<1_000_000)
            router.handle("Greeter.Hello") { (_: Hello, _) in
                recorder.record("\(id)")
                return Greeting(msg: "\(id)")
            }
            return try harness.service("greeter", router)
        }
        let client = harness.runtime(selector: RegistrySelector(registry: harness.registry, strategy: RoundRobinStrategy())).client
        try await withServices([try instance(), try instance()]) {
            for _ in 0..<10 {
                _ = try await client.call("greeter", "Greeter.Hello", request: Hello(name: "x"), responseType: Greeting.self)
            }
        }
        let counts = Dictionary(grouping: recorder.all, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 2)
        #expect(counts.values.allSatisfy { $0 == 5 }, "round robin alternates: \(counts)")
    }
}
