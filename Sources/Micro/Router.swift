public import MicroCore
import NIOCore

/// The handlers, stream handlers, subscribers and interceptors of a service.
///
/// ```swift
/// var router = Router()
/// router.handle("Greeter.Hello") { (request: HelloRequest, context) in
///     HelloResponse(msg: "Hello \(request.name)")
/// }
/// ```
///
/// Endpoint names are go-micro's `Handler.Method`. Request and response types are
/// whatever the codecs handle: `Codable` types for JSON, protobuf messages for
/// CodecProto, `ByteBuffer` for raw bytes. Where several codecs serve one content type,
/// the server reads a request with the first (in link order) that can decode the
/// request type, and answers with the first that can encode the response type, in the
/// content type the call's `Accept` names when one can, else in the request's.
///
/// Handlers run on the caller's executor (the package is built with
/// `NonisolatedNonsendingByDefault`), and a transport may start each call on its I/O
/// thread (TCP does): a handler runs there until it first waits, so a quick answer costs
/// no thread hop. Long CPU-bound work should move off that thread, for example into a
/// `@concurrent` function the handler awaits, so that it does not hold up other calls.
///
/// A handler that does not `await` (a synchronous closure, as in the example above) is
/// kept as such: on TCP it runs right where the request is read, without a task, and
/// its answer is sent from there (see the synchronous `handle` below).
public struct Router: Sendable {
    var routes: [String: Route] = [:]
    var subscribers: [Subscriber] = []
    var interceptors: [any ServerInterceptor] = []

    /// Creates an empty router.
    public init() {}

    /// Answers `endpoint` with `handler`: one request in, one response out.
    public mutating func handle<Request: Sendable, Response: Sendable>(
        _ endpoint: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        routes[endpoint] = Route(
            name: endpoint, request: MessageType(Request.self), response: MessageType(Response.self), isStream: false
        ) { call, context in
            let request = try call.decode(Request.self, from: call.first.body)
            let response = try await handler(request, context)
            return try call.encode(response)
        }
    }

    /// Answers `endpoint` with a synchronous `handler`: one request in, one response out.
    ///
    /// Swift picks this overload for a closure that does not `await`. Where the
    /// transport supports it (TCP does) and the router has no interceptors, such a call
    /// runs without a task of its own, on the thread that read the request, and its
    /// answer goes out from there; elsewhere it runs like an asynchronous handler. Its
    /// deadline is checked when it returns (a late answer becomes a 408), but it is not
    /// interrupted at the deadline as a task would be cancelled.
    public mutating func handle<Request: Sendable, Response: Sendable>(
        _ endpoint: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        _ handler: @escaping @Sendable (Request, ServerContext) throws -> Response
    ) {
        let answer: Route.Answer = { body, decoder, encoder, context in
            let request = try ServerCall.decode(Request.self, from: body, codec: decoder, endpoint: context.endpoint)
            let response = try handler(request, context)
            return try ServerCall.encode(response, codec: encoder, endpoint: context.endpoint)
        }
        routes[endpoint] = Route(
            name: endpoint, request: MessageType(Request.self), response: MessageType(Response.self), isStream: false,
            answer: answer
        ) { call, context in
            try answer(call.first.body, call.codecs.decoder, call.codecs.encoder, context)
        }
    }

    /// Answers `endpoint` with a bidirectional stream handler.
    ///
    /// The handler reads requests from its `requests` sequence (it ends when the client
    /// closes its side) and writes answers with `responses`; when the handler returns,
    /// the client's stream ends.
    public mutating func stream<Request: Sendable, Response: Sendable>(
        _ endpoint: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        _ handler: @escaping @Sendable (
            ServerRequestStream<Request>, ServerResponseWriter<Response>, ServerContext
        ) async throws -> Void
    ) {
        routes[endpoint] = Route(
            name: endpoint, request: MessageType(Request.self), response: MessageType(Response.self), isStream: true,
            metadata: ["stream": "true"]
        ) { call, context in
            let requests = ServerRequestStream<Request>(call: call)
            let responses = ServerResponseWriter<Response>(call: call)
            try await handler(requests, responses, context)
            return nil
        }
    }

    /// Runs `handler` for every event published to `topic`.
    ///
    /// - Parameters:
    ///   - queue: a queue group: each event goes to one member of the group; `nil` gets
    ///     every event.
    ///   - name: the endpoint name advertised for this subscriber.
    public mutating func subscribe<Event: Sendable>(
        _ topic: String,
        queue: String? = nil,
        name: String = "Subscriber",
        event: Event.Type = Event.self,
        _ handler: @escaping @Sendable (Event, ServerContext) async throws -> Void
    ) {
        let subscription = ServerSubscription(topic: topic, queue: queue)
        var metadata = ["topic": topic, "subscriber": "true"]
        if let queue { metadata["queue"] = queue }
        subscribers.append(Subscriber(subscription: subscription, name: name, event: MessageType(Event.self), metadata: metadata) {
            codec, body, context in
            let event: Event
            do {
                event = try codec.decode(Event.self, from: body)
            } catch {
                throw MicroError.badRequest("\(topic): could not decode \(Event.self): \(error)")
            }
            try await handler(event, context)
        })
    }

    /// Adds an interceptor around every call; the first added is the outermost.
    public mutating func intercept(_ interceptor: any ServerInterceptor) {
        interceptors.append(interceptor)
    }

    /// The endpoints to advertise, sorted by name: handlers, streams and subscribers,
    /// their types described by the runtime alone.
    ///
    /// ``RPCServer/endpoints`` asks its codecs first (see
    /// ``MicroCore/Codec/describe(_:)``), so a codec can describe the types it owns.
    public var endpoints: [Endpoint] {
        endpoints(describedBy: Codecs([]))
    }

    /// The endpoints to advertise, sorted by name, each type described by the first of
    /// `codecs` that describes it, else by the runtime.
    func endpoints(describedBy codecs: Codecs) -> [Endpoint] {
        routes.values.sorted { $0.name < $1.name }.map { $0.endpoint(describedBy: codecs) }
            + subscribers.map { $0.endpoint(describedBy: codecs) }
    }
}

/// One endpoint's handler, erased to bytes.
///
/// A class, so that looking a route up on every call copies one reference rather than
/// the endpoint's strings and descriptions.
final class Route: Sendable {
    /// `Handler.Method`.
    let name: String
    /// The request type.
    let request: MessageType
    /// The response type.
    let response: MessageType
    let isStream: Bool
    /// The endpoint's metadata in the registry (`stream` for streams).
    let metadata: [String: String]
    /// Runs the handler; returns the encoded answer of a unary call, `nil` for a stream
    /// (which writes its own answers).
    let invoke: @Sendable (ServerCall, ServerContext) async throws -> ByteBuffer?
    /// The synchronous handler of a unary endpoint, from the request body to the encoded
    /// answer; `nil` when the handler is asynchronous or a stream's.
    let answer: Answer?
    /// For each content type of the server's ``Codecs`` (by index), the codec that
    /// decodes the request type, `nil` where none can; empty until ``resolved(for:)``.
    let decoders: [(any Codec)?]
    /// For each content type of the server's ``Codecs`` (by index), the codec that
    /// encodes the response type, `nil` where none can; empty until ``resolved(for:)``.
    let encoders: [(any Codec)?]
    /// For each content type of the server's ``Codecs`` (by index), the codecs of a call
    /// that is answered in the content type it was sent in (the usual case), `nil` where
    /// a decoder or an encoder is missing; empty until ``resolved(for:)``.
    let sameTypeCodecs: [CallCodecs?]

    /// A synchronous unary handler erased to bytes: request body, the codec that decodes
    /// it, the codec that encodes the answer, and the call's context in; encoded answer
    /// out.
    typealias Answer = @Sendable (ByteBuffer, _ decoder: any Codec, _ encoder: any Codec, ServerContext) throws -> ByteBuffer

    init(
        name: String, request: MessageType, response: MessageType, isStream: Bool, metadata: [String: String] = [:],
        answer: Answer? = nil, decoders: [(any Codec)?] = [], encoders: [(any Codec)?] = [],
        invoke: @escaping @Sendable (ServerCall, ServerContext) async throws -> ByteBuffer?
    ) {
        self.name = name
        self.request = request
        self.response = response
        self.isStream = isStream
        self.metadata = metadata
        self.answer = answer
        self.decoders = decoders
        self.encoders = encoders
        sameTypeCodecs = zip(decoders, encoders).map { decoder, encoder in
            guard let decoder, let encoder else { return nil }
            return CallCodecs(decoder: decoder, encoder: encoder)
        }
        self.invoke = invoke
    }

    /// The same route with its codecs chosen among `codecs`, once, so that a call only
    /// indexes them: per content type the first codec (in link order) that says it can
    /// decode the request type and the first that can encode the response type.
    func resolved(for codecs: Codecs) -> Route {
        let (requestType, responseType) = (request.type, response.type)
        return Route(
            name: name, request: request, response: response, isStream: isStream, metadata: metadata, answer: answer,
            decoders: (0..<codecs.count).map { codecs.strictDecoder(at: $0, for: requestType) },
            encoders: (0..<codecs.count).map { codecs.strictEncoder(at: $0, for: responseType) },
            invoke: invoke
        )
    }

    /// The registry's description of this endpoint, its types described by the first of
    /// `codecs` that describes them, else by the runtime.
    func endpoint(describedBy codecs: Codecs) -> Endpoint {
        Endpoint(name: name, request: request.describe(by: codecs), response: response.describe(by: codecs), metadata: metadata)
    }
}

/// One subscriber, erased to bytes.
struct Subscriber: Sendable {
    let subscription: ServerSubscription
    /// The endpoint name advertised.
    let name: String
    /// The event type.
    let event: MessageType
    /// The endpoint's metadata in the registry (`topic`, `subscriber`, `queue`).
    let metadata: [String: String]
    let invoke: @Sendable (any Codec, ByteBuffer, ServerContext) async throws -> Void
    /// For each content type of the server's ``Codecs`` (by index), the codec that
    /// decodes the event type, `nil` where none can; empty until ``resolved(for:)``.
    var decoders: [(any Codec)?] = []

    /// The same subscriber with its codecs chosen among `codecs`, as
    /// ``Route/resolved(for:)`` does.
    func resolved(for codecs: Codecs) -> Subscriber {
        var resolved = self
        let eventType = event.type
        resolved.decoders = (0..<codecs.count).map { codecs.strictDecoder(at: $0, for: eventType) }
        return resolved
    }

    /// The registry's description of this subscriber.
    func endpoint(describedBy codecs: Codecs) -> Endpoint {
        Endpoint(name: name, request: event.describe(by: codecs), metadata: metadata)
    }
}
