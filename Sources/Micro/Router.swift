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
/// whatever the codec in use handles: `Codable` types for JSON, protobuf messages for
/// CodecProto, `ByteBuffer` for raw bytes.
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
        let description = Router.describe(endpoint, Request.self, Response.self)
        routes[endpoint] = Route(endpoint: description, isStream: false) { call, context in
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
        let description = Router.describe(endpoint, Request.self, Response.self)
        let answer: Route.Answer = { body, codec, context in
            let request = try ServerCall.decode(Request.self, from: body, codec: codec, endpoint: context.endpoint)
            let response = try handler(request, context)
            return try ServerCall.encode(response, codec: codec, endpoint: context.endpoint)
        }
        routes[endpoint] = Route(endpoint: description, isStream: false, answer: answer) { call, context in
            try answer(call.first.body, call.codec, context)
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
        let description = Router.describe(endpoint, Request.self, Response.self, metadata: ["stream": "true"])
        routes[endpoint] = Route(endpoint: description, isStream: true) { call, context in
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
        let description = Endpoint(name: name, request: TypeDescriber.describe(Event.self), metadata: metadata)
        subscribers.append(Subscriber(subscription: subscription, endpoint: description) { codec, body, context in
            let event: Event
            do {
                event = try codec.decode(Event.self, from: body)
            } catch {
                throw MicroError.badRequest("\(topic): could not decode \(Event.self): \(error)")
            }
            try await handler(event, context)
        })
    }

    /// The registry's description of a handler's endpoint.
    private static func describe<Request, Response>(
        _ endpoint: String, _ request: Request.Type, _ response: Response.Type, metadata: [String: String] = [:]
    ) -> Endpoint {
        Endpoint(
            name: endpoint, request: TypeDescriber.describe(request), response: TypeDescriber.describe(response),
            metadata: metadata
        )
    }

    /// Adds an interceptor around every call; the first added is the outermost.
    public mutating func intercept(_ interceptor: any ServerInterceptor) {
        interceptors.append(interceptor)
    }

    /// The endpoints to advertise, sorted by name: handlers, streams and subscribers.
    public var endpoints: [Endpoint] {
        routes.values.map(\.endpoint).sorted { $0.name < $1.name } + subscribers.map(\.endpoint)
    }
}

/// One endpoint's handler, erased to bytes.
///
/// A class, so that looking a route up on every call copies one reference rather than
/// the endpoint's strings and descriptions.
final class Route: Sendable {
    let endpoint: Endpoint
    let isStream: Bool
    /// Runs the handler; returns the encoded answer of a unary call, `nil` for a stream
    /// (which writes its own answers).
    let invoke: @Sendable (ServerCall, ServerContext) async throws -> ByteBuffer?
    /// The synchronous handler of a unary endpoint, from the request body to the encoded
    /// answer; `nil` when the handler is asynchronous or a stream's.
    let answer: Answer?

    /// A synchronous unary handler erased to bytes: request body, the call's codec and
    /// context in; encoded answer out.
    typealias Answer = @Sendable (ByteBuffer, any Codec, ServerContext) throws -> ByteBuffer

    init(
        endpoint: Endpoint, isStream: Bool, answer: Answer? = nil,
        invoke: @escaping @Sendable (ServerCall, ServerContext) async throws -> ByteBuffer?
    ) {
        self.endpoint = endpoint
        self.isStream = isStream
        self.answer = answer
        self.invoke = invoke
    }
}

/// One subscriber, erased to bytes.
struct Subscriber: Sendable {
    let subscription: ServerSubscription
    let endpoint: Endpoint
    let invoke: @Sendable (any Codec, ByteBuffer, ServerContext) async throws -> Void
}
