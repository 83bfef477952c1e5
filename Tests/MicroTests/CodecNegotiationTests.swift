import CodecJSON
import Micro
import MicroCore
import MicroTesting
import NIOCore
import Testing

/// Several codecs per content type, `Accept`, the answer's `Content-Type`, the default
/// content type, unencodable answers, and endpoint descriptions by codecs.
@Suite("Codec negotiation", .timeLimit(.minutes(1)))
struct CodecNegotiationTests {
    let harness = Harness()

    func runtime(_ codecs: [any Codec], options: MicroOptions = MicroOptions()) -> MicroRuntime {
        MicroRuntime(registry: harness.registry, transport: harness.transport, codecs: codecs, options: options, logger: quiet)
    }

    func makeService(_ name: String, _ router: Router, codecs: [any Codec]) -> MicroService {
        var configuration = MicroService.Configuration(name: name)
        configuration.drainTimeout = .seconds(2)
        return MicroService(configuration: configuration, router: router, runtime: runtime(codecs), logger: quiet)
    }

    func makeServer(_ codecs: [any Codec], _ configure: (inout Router) -> Void) -> RPCServer {
        var router = Router()
        configure(&router)
        return RPCServer(name: "greeter", router: router, codecs: codecs, client: runtime(codecs).client, logger: quiet)
    }

    /// A request as a client sends it, with the given `Content-Type` and `Accept` (none
    /// when `nil`).
    static func request(
        _ endpoint: String, body: String = #"{"name":"Ada"}"#, contentType: String? = "application/json", accept: String? = nil
    ) -> TransportMessage {
        var headers: Metadata = [
            MicroHeader.service: "greeter", MicroHeader.endpoint: endpoint, MicroHeader.method: endpoint, MicroHeader.id: "7",
        ]
        if let contentType { headers[MicroHeader.contentType] = contentType }
        if let accept { headers[MicroHeader.accept] = accept }
        return TransportMessage(headers: headers, body: ByteBuffer(string: body))
    }

    static func error(of reply: TransportMessage?) -> MicroError? {
        reply?.headers[MicroHeader.error].map(MicroError.parse)
    }

    // MARK: - Several codecs on one content type

    @Test func aTypeTheFirstCodecDeclinesIsReadAndWrittenByTheNext() async throws {
        let codecs: [any Codec] = [TaggedJSONCodec(), JSONCodec()]
        var router = Router()
        router.handle("Greeter.Hello") { (request: Hello, _) async in Greeting(msg: "Hello \(request.name)") }
        router.handle("Greeter.Tag") { (request: Tagged, _) async in Tagged(name: request.name + "!") }
        let client = runtime(codecs).client
        try await withServices([makeService("greeter", router, codecs: codecs)]) {
            let greeting = try await client.call("greeter", "Greeter.Hello", request: Hello(name: "Ada"), responseType: Greeting.self)
            #expect(greeting == Greeting(msg: "Hello Ada"))
            let tagged = try await client.call("greeter", "Greeter.Tag", request: Tagged(name: "Ada"), responseType: Tagged.self)
            #expect(tagged == Tagged(name: "Ada!"))
        }
    }

    @Test func theServerChoosesTheCodecPerTypeOnTheWire() throws {
        let server = makeServer([TaggedJSONCodec(), JSONCodec()]) { router in
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: "Hello \(request.name)") }
            router.handle("Greeter.Tag") { (request: Tagged, _) in Tagged(name: request.name + "!") }
        }
        let hello = try #require(server.answerImmediately(Self.request("Greeter.Hello")))
        #expect(String(buffer: hello.body) == #"{"msg":"Hello Ada"}"#)
        let tag = try #require(server.answerImmediately(Self.request("Greeter.Tag", body: #"{"tagged":"Ada"}"#)))
        #expect(Self.error(of: tag) == nil)
        #expect(String(buffer: tag.body) == #"{"tagged":"Ada!","by":"tagged"}"#)
    }

    // MARK: - Accept

    @Test func theServerAnswersInTheContentTypeAcceptNames() throws {
        let server = makeServer([JSONCodec(), TextCodec()]) { router in
            router.handle("Greeter.Text") { (request: Hello, _) in "Hello \(request.name)" }
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: "Hello \(request.name)") }
        }
        let text = try #require(server.answerImmediately(Self.request("Greeter.Text", accept: "text/plain")))
        #expect(text.headers[MicroHeader.contentType] == "text/plain")
        #expect(String(buffer: text.body) == "Hello Ada")

        // The first type of a list that has a codec for the response, parameters ignored.
        let listed = try #require(server.answerImmediately(Self.request("Greeter.Text", accept: "application/xml, Text/Plain; q=0.5")))
        #expect(listed.headers[MicroHeader.contentType] == "text/plain")
        #expect(String(buffer: listed.body) == "Hello Ada")

        // No codec of text/plain encodes a Greeting: the answer is in the request's type.
        let greeting = try #require(server.answerImmediately(Self.request("Greeter.Hello", accept: "text/plain")))
        #expect(greeting.headers[MicroHeader.contentType] == "application/json")
        #expect(String(buffer: greeting.body) == #"{"msg":"Hello Ada"}"#)

        // The same as the request, a wildcard, an unknown type or none: the request's.
        for accept in ["application/json", "*/*", "application/xml", nil] {
            let reply = try #require(server.answerImmediately(Self.request("Greeter.Text", accept: accept)))
            #expect(reply.headers[MicroHeader.contentType] == "application/json", "Accept \(accept ?? "absent")")
            #expect(String(buffer: reply.body) == #""Hello Ada""#, "Accept \(accept ?? "absent")")
        }
    }

    @Test func anAsynchronousHandlerAndAStreamAnswerInTheContentTypeAcceptNames() async throws {
        let codecs: [any Codec] = [JSONCodec(), TextCodec()]
        var router = Router()
        router.handle("Greeter.Text") { (request: Hello, _) async in "Hello \(request.name)" }
        router.stream("Greeter.Texts") { (requests: ServerRequestStream<Hello>, responses: ServerResponseWriter<String>, _) in
            for try await request in requests { try await responses.send("Hi \(request.name)") }
        }
        let service = makeService("greeter", router, codecs: codecs)
        try await withServices([service]) {
            let connection = try await harness.transport.dial(try await service.ready(), timeout: .seconds(5))
            let reply = try #require(try await connection.roundTrip(Self.request("Greeter.Text", accept: "text/plain"), before: nil))
            #expect(reply.headers[MicroHeader.contentType] == "text/plain")
            #expect(String(buffer: reply.body) == "Hello Ada")

            let stream = try await connection.openStream()
            var opening = Self.request("Greeter.Texts", accept: "text/plain")
            opening.headers[MicroHeader.stream] = "7"
            try await stream.send(opening)
            let answer = try #require(try await stream.receive())
            #expect(answer.headers[MicroHeader.contentType] == "text/plain")
            #expect(String(buffer: answer.body) == "Hi Ada")
            await stream.close()
            await connection.close()
        }
    }

    // MARK: - The client reads the answer's Content-Type

    /// Serves raw answers on the memory transport, as a server in another language might
    /// send them: `Raw.Text` in text/plain, `Raw.Untyped` without a content type,
    /// `Raw.Stream` one message in each of text/plain and JSON.
    func withRawServer(_ body: (String) async throws -> Void) async throws {
        let listener = try await harness.transport.listen("")
        let serving = Task {
            try await listener.serve { stream in
                guard let request = try? await stream.receive() else { return }
                func answer(_ contentType: String?, _ text: String, end: Bool = true) async throws {
                    var headers: Metadata = [MicroHeader.id: request.headers[MicroHeader.id] ?? ""]
                    if let contentType { headers[MicroHeader.contentType] = contentType }
                    try await stream.send(TransportMessage(headers: headers, body: ByteBuffer(string: text)), endOfStream: end)
                }
                switch request.headers[MicroHeader.endpoint] {
                case "Raw.Text": try? await answer("text/plain", "plain answer")
                case "Raw.Untyped": try? await answer(nil, #""json answer""#)
                case "Raw.Unknown": try? await answer("application/xml", "<answer/>")
                case "Raw.Stream":
                    try? await answer("text/plain", "one", end: false)
                    try? await answer("application/json; charset=utf-8", #""two""#, end: false)
                    try? await stream.send(TransportMessage(headers: [MicroHeader.error: MicroHeader.endOfStream]), endOfStream: true)
                default: await stream.close()
                }
            }
        }
        do {
            try await body(listener.address)
        } catch {
            await listener.close()
            _ = await serving.result
            throw error
        }
        await listener.close()
        _ = await serving.result
    }

    @Test func theClientDecodesAnAnswerByItsContentType() async throws {
        let client = runtime([JSONCodec(), TextCodec()]).client
        try await withRawServer { address in
            let options = CallOptions(address: address)
            let text = try await client.call("raw", "Raw.Text", request: Hello(name: "Ada"), responseType: String.self, options: options)
            #expect(text == "plain answer")
            // No content type: read as the request's (JSON).
            let untyped = try await client.call("raw", "Raw.Untyped", request: Hello(name: "Ada"), responseType: String.self, options: options)
            #expect(untyped == "json answer")
            let unknown = await microError {
                _ = try await client.call("raw", "Raw.Unknown", request: Hello(name: "Ada"), responseType: String.self, options: options)
            }
            #expect(unknown?.code == 500)
            #expect(unknown?.detail.contains("application/xml") == true, "\(unknown?.detail ?? "")")
        }
    }

    @Test func aStreamDecodesEachMessageByItsContentType() async throws {
        let client = runtime([JSONCodec(), TextCodec()]).client
        try await withRawServer { address in
            let answers = try await client.stream(
                "raw", "Raw.Stream", requestType: Hello.self, responseType: String.self, options: CallOptions(address: address)
            ) { stream in
                var answers: [String] = []
                for try await answer in stream.responses { answers.append(answer) }
                return answers
            }
            #expect(answers == ["one", "two"])
        }
    }

    // MARK: - The default content type

    @Test func aRequestWithoutContentTypeIsReadAsTheConfiguredDefault() async throws {
        let options = try MicroOptions.resolve(
            arguments: [], environment: ["MICRO_SERVER_DEFAULT_CONTENT_TYPE": "text/plain"], keys: OptionKey.core
        )
        let notes = Recorder()
        var router = Router()
        router.handle("Echo.Text") { (text: String, _) in "echo \(text)" }
        router.subscribe("notes") { (note: String, _) in notes.record(note) }
        let service = try MicroService(name: "echo", router: router, runtime: runtime([JSONCodec(), TextCodec()], options: options))
        #expect(service.configuration.defaultContentType == "text/plain")

        let reply = try #require(service.server.answerImmediately(Self.request("Echo.Text", body: "Ada", contentType: nil)))
        #expect(Self.error(of: reply) == nil)
        #expect(reply.headers[MicroHeader.contentType] == "text/plain")
        #expect(String(buffer: reply.body) == "echo Ada")

        // A broker message without a content type too.
        try await service.server.deliver(BrokerMessage(headers: [:], body: ByteBuffer(string: "a note")), to: ServerSubscription(topic: "notes"))
        #expect(notes.all == ["a note"])
    }

    @Test func theDefaultContentTypeStaysJSON() throws {
        let options = try MicroOptions.resolve(arguments: [], environment: [:], keys: OptionKey.core)
        #expect(try MicroService.Configuration(name: "x", options: options).defaultContentType == "application/json")
        #expect(try MicroService.Configuration(name: "x", options: MicroOptions()).defaultContentType == "application/json")
        let flagged = try MicroOptions.resolve(arguments: ["--server_default_content_type", "application/protobuf"], environment: [:])
        #expect(try MicroService.Configuration(name: "x", options: flagged).defaultContentType == "application/protobuf")

        let server = makeServer([JSONCodec(), TextCodec()]) { router in
            router.handle("Echo.Text") { (text: String, _) in "echo \(text)" }
        }
        let reply = try #require(server.answerImmediately(Self.request("Echo.Text", body: #""Ada""#, contentType: nil)))
        #expect(reply.headers[MicroHeader.contentType] == "application/json")
        #expect(String(buffer: reply.body) == #""echo Ada""#)
    }

    // MARK: - Answers the server cannot encode

    @Test func aResponseNoCodecEncodesIs500AndTheHandlerDoesNotRun() async throws {
        let ran = Recorder()
        var router = Router()
        router.handle("Greeter.Sync") { (request: Hello, _) -> Tagged in
            ran.record("sync")
            return Tagged(name: request.name)
        }
        router.handle("Greeter.Async") { (request: Hello, _) async -> Tagged in
            ran.record("async")
            return Tagged(name: request.name)
        }
        let codecs: [any Codec] = [JSONCodec()]
        let immediate = RPCServer(name: "greeter", router: router, codecs: codecs, client: runtime(codecs).client, logger: quiet)
        // Not answered at once: handle() answers, with the 500.
        #expect(immediate.answerImmediately(Self.request("Greeter.Sync")) == nil)

        let client = runtime(codecs).client
        try await withServices([makeService("greeter", router, codecs: codecs)]) {
            for endpoint in ["Greeter.Sync", "Greeter.Async"] {
                let error = await microError {
                    _ = try await client.call("greeter", endpoint, request: Hello(name: "Ada"), responseType: Greeting.self)
                }
                #expect(error?.code == 500, "\(endpoint)")
                #expect(error?.id == "greeter")
                #expect(error?.detail.contains("Tagged") == true, "names the response type: \(error?.detail ?? "")")
            }
        }
        #expect(ran.all.isEmpty, "the handlers did not run")
    }

    @Test func aResponseWhoseEncodingThrowsIs500() async throws {
        struct Measure: Codable, Sendable { var value: Double }
        var router = Router()
        router.handle("Meter.Sync") { (_: Hello, _) in Measure(value: .nan) }
        router.handle("Meter.Async") { (_: Hello, _) async in Measure(value: .infinity) }
        let codecs: [any Codec] = [JSONCodec()]
        let server = RPCServer(name: "meter", router: router, codecs: codecs, client: runtime(codecs).client, logger: quiet)
        let reply = try #require(server.answerImmediately(Self.request("Meter.Sync")))
        #expect(Self.error(of: reply)?.code == 500)

        let client = runtime(codecs).client
        try await withServices([makeService("meter", router, codecs: codecs)]) {
            let error = await microError {
                _ = try await client.call("meter", "Meter.Async", request: Hello(name: "Ada"), responseType: Greeting.self)
            }
            #expect(error?.code == 500)
            #expect(error?.detail.contains("could not encode response") == true, "\(error?.detail ?? "")")
        }
    }

    @Test func aRequestTypeNoCodecOfItsContentTypeReadsIs400() throws {
        let server = makeServer([JSONCodec(), TextCodec()]) { router in
            router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        }
        #expect(server.answerImmediately(Self.request("Greeter.Hello", contentType: "text/plain")) == nil)
    }

    // MARK: - Describing endpoints

    @Test func codecsDescribeTheEndpointTypesTheyOwn() throws {
        var router = Router()
        router.handle("Greeter.Tag") { (request: Tagged, _) in Greeting(msg: request.name) }
        router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        router.subscribe("tags", name: "Tags") { (_: Tagged, _) in }
        let codecs: [any Codec] = [JSONCodec(), TaggedJSONCodec()]
        let server = RPCServer(name: "greeter", router: router, codecs: codecs, client: runtime(codecs).client, logger: quiet)

        let tag = try #require(server.endpoints.first { $0.name == "Greeter.Tag" })
        #expect(tag.request == EndpointValue(name: "Tagged", type: "tagged.v1", values: [EndpointValue(name: "tagged", type: "string")]))
        #expect(tag.response == EndpointValue(name: "Greeting", type: "Greeting", values: [EndpointValue(name: "msg", type: "string")]))
        let subscriber = try #require(server.endpoints.first { $0.name == "Tags" })
        #expect(subscriber.request?.type == "tagged.v1")
        #expect(subscriber.metadata == ["topic": "tags", "subscriber": "true"])
        // Types no codec describes: the runtime's description, as the router alone gives.
        let hello = try #require(server.endpoints.first { $0.name == "Greeter.Hello" })
        #expect(hello == router.endpoints.first { $0.name == "Greeter.Hello" })
        #expect(router.endpoints.first { $0.name == "Greeter.Tag" }?.request == EndpointValue(name: "Tagged", type: "Tagged"))
    }

    @Test func withJSONAloneTheEndpointsAreTheRuntimesDescription() throws {
        var router = Router()
        router.handle("Greeter.Hello") { (request: Hello, _) in Greeting(msg: request.name) }
        router.stream("Greeter.Chat") { (_: ServerRequestStream<Hello>, _: ServerResponseWriter<Greeting>, _) in }
        router.subscribe("hellos", queue: "q") { (_: Hello, _) in }
        let server = RPCServer(name: "greeter", router: router, codecs: [JSONCodec()], client: runtime([JSONCodec()]).client, logger: quiet)
        #expect(server.endpoints == router.endpoints)
        let hello = try #require(server.endpoints.first { $0.name == "Greeter.Hello" })
        #expect(hello.request == EndpointValue(name: "Hello", type: "Hello", values: [EndpointValue(name: "name", type: "string")]))
        #expect(server.endpoints.map(\.name) == ["Greeter.Chat", "Greeter.Hello", "Subscriber"])
    }
}
