public import Logging
public import MicroCore
import NIOCore
import Synchronization

/// The server of go-micro's "mucp" protocol: it dispatches each inbound call to the
/// router's handler for its `Micro-Endpoint`, under the deadline its `Timeout` header
/// gives.
///
/// Codecs are negotiated per call. The request is read with the first codec (in link
/// order) of its `Content-Type` (or the default content type when it has none) that can
/// decode the endpoint's request type. The answer goes out in the first content type
/// `Accept` names that has a codec able to encode the response type, else in the
/// request's content type, and carries that `Content-Type`. The choices are made once
/// per endpoint and content type when the server is created, so a call only compares
/// its headers with the known content types.
///
/// Every failure is answered with a ``MicroError`` and the server keeps serving: an
/// unknown endpoint is 404, a content type no codec reads or a request that does not
/// decode 400, a deadline that passes 408 (and the handler's task is cancelled), a
/// response no codec encodes 500, and any other error a handler throws 500 with its
/// description.
///
/// The handler runs in the task that calls ``handle(_:)``, which the deadline cancels;
/// call it in a task of its own per stream, as every ``MicroCore/TransportListener``
/// runs its handler.
public struct RPCServer: Server {
    /// The service name.
    public let name: String
    /// The endpoints to advertise.
    public let endpoints: [Endpoint]
    /// The broker subscriptions the router's subscribers need.
    public let subscriptions: [ServerSubscription]

    private let router: Router
    /// The router's routes with their codecs chosen.
    private let routes: [String: Route]
    /// The router's subscribers with their codecs chosen.
    private let subscribers: [Subscriber]
    private let codecs: Codecs
    private let defaultContentType: String
    private let client: any Client
    private let logger: Logger
    private let drain = DrainFlag()

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - name: the service name, used as the `id` of the errors it raises.
    ///   - router: the handlers.
    ///   - codecs: the codecs requests and answers may use, in link order: where several
    ///     serve one content type, the first that can handle a type is used for it. They
    ///     also describe the endpoints' types (see ``MicroCore/Codec/describe(_:)``).
    ///   - defaultContentType: the content type assumed when a request or broker
    ///     message has none (`--server_default_content_type`); go-micro assumes
    ///     `application/protobuf` there.
    ///   - client: the client handlers get in their ``ServerContext``.
    ///   - logger: where failures are logged.
    public init(
        name: String,
        router: Router,
        codecs: [any Codec],
        defaultContentType: String = "application/json",
        client: any Client,
        logger: Logger = Logger(label: "micro.server")
    ) {
        self.name = name
        let codecs = Codecs(codecs)
        self.router = router
        self.routes = router.routes.mapValues { $0.resolved(for: codecs) }
        self.subscribers = router.subscribers.map { $0.resolved(for: codecs) }
        self.endpoints = router.endpoints(describedBy: codecs)
        var seen = Set<ServerSubscription>()
        self.subscriptions = router.subscribers.map(\.subscription).filter { seen.insert($0).inserted }
        self.codecs = codecs
        self.defaultContentType = defaultContentType
        self.client = client
        self.logger = logger
    }

    /// Answers one call, then closes this side of the stream.
    ///
    /// When the call's deadline passes, the current task is cancelled (the handler sees
    /// the cancellation) and the caller gets a 408; the task stays cancelled after this
    /// returns.
    ///
    /// The last answer of a call goes out with the end of stream
    /// (``MicroCore/TransportStream/send(_:endOfStream:)``), so a transport can write both
    /// at once; `close()` is only called when no answer went out that way.
    public func handle(_ stream: any TransportStream) async {
        if await !answer(stream) { await stream.close() }
    }

    /// Answers the call; returns whether the answer went out with the end of stream,
    /// which closed this side.
    private func answer(_ stream: any TransportStream) async -> Bool {
        let first: TransportMessage
        do {
            guard let message = try await stream.receive() else { return false }
            first = message
        } catch {
            logger.debug("call ended before its request arrived", metadata: ["error": "\(error)"])
            return false
        }
        let headers = RequestHeaders(first.headers)
        let endpoint = headers.endpoint ?? headers.method ?? ""
        let callID = headers.id
        let streamID = headers.stream
        do {
            if drain.isSet { throw MicroError.nodeDraining(name) }
            if endpoint.isEmpty, let topic = headers.topic {
                try await deliverEvent(first, topic: topic)
                try await stream.send(
                    TransportMessage(headers: ServerCall.replyHeaders(callID: callID, streamID: nil)), endOfStream: true)
                return true
            }
            guard let route = routes[endpoint] else {
                throw endpoint.isEmpty
                    ? MicroError.badRequest("request names no endpoint (\(MicroHeader.endpoint) header missing)", id: name)
                    : MicroError.notFound("service \(name): endpoint \(endpoint) not found", id: name)
            }
            let call = ServerCall(
                stream: stream, first: first, codecs: try callCodecs(route, headers), endpoint: endpoint, callID: callID,
                streamID: streamID
            )
            let context = ServerContext(
                service: name, endpoint: endpoint, metadata: headers.metadata,
                deadlineTime: RPCServer.deadline(timeout: headers.timeout), client: client
            )
            if let body = try await run(route, call: call, context: context) {
                try await call.reply(body, endOfStream: true)
            } else {
                try await call.replyError(MicroHeader.endOfStream, endOfStream: true)
            }
            return true
        } catch {
            let reply = failure(error, endpoint: endpoint)
            do {
                try await ServerCall.replyError(reply.json, on: stream, callID: callID, streamID: streamID, endOfStream: true)
                return true
            } catch {
                logger.debug("could not send error reply", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                return false
            }
        }
    }

    /// Answers a call to a synchronous handler at once, on the listener's I/O thread.
    ///
    /// Only unary endpoints whose handler does not `await` qualify, and only on a router
    /// without interceptors (they are asynchronous); every other call, and a call naming
    /// an unknown endpoint or a content type without a codec for its types, returns
    /// `nil` and goes to ``handle(_:)``. The answer is what ``handle(_:)`` would send:
    /// the encoded response, or the error (400 for a request that does not decode, 408
    /// when the deadline passed by the time the handler returned, the handler's
    /// ``MicroError``, 500 for a response that does not encode or any other error).
    public func answerImmediately(_ request: TransportMessage) -> TransportMessage? {
        guard router.interceptors.isEmpty, !drain.isSet else { return nil }
        let headers = RequestHeaders(request.headers)
        guard let endpoint = headers.endpoint ?? headers.method, let route = routes[endpoint],
            let answer = route.answer, let chosen = try? callCodecs(route, headers)
        else { return nil }
        let deadline = RPCServer.deadline(timeout: headers.timeout)
        let context = ServerContext(
            service: name, endpoint: endpoint, metadata: headers.metadata, deadlineTime: deadline, client: client
        )
        var reply = ServerCall.replyHeaders(callID: headers.id, streamID: headers.stream)
        do {
            let body = try CallContext.$current.withValue(CallContext(metadata: context.metadata, deadlineTime: deadline)) {
                try answer(request.body, chosen.decoder, chosen.encoder, context)
            }
            // Checked once the handler returned: its answer is only good in time. (The
            // deadline was `now` plus a positive timeout when it started.)
            if let deadline, ContinuousTime.now > deadline { throw deadlineExceeded(endpoint) }
            reply.append(MicroHeader.contentType, chosen.encoder.contentType)
            return TransportMessage(headers: reply, body: body)
        } catch {
            reply.append(MicroHeader.error, failure(error, endpoint: endpoint).json)
            return TransportMessage(headers: reply)
        }
    }

    /// Starts refusing new calls and events with ``MicroCore/MicroError/nodeDraining(_:)``
    /// (503, safe to send elsewhere: no handler runs), the first step of a graceful
    /// shutdown; calls already running go on.
    public func startDraining() {
        drain.set()
    }

    /// Whether ``startDraining()`` was called.
    public var isDraining: Bool {
        drain.isSet
    }

    /// Runs the subscribers of `subscription` for one message, each decoding it with the
    /// first codec of the message's `Content-Type` (the default content type when it has
    /// none) that can decode its event type.
    public func deliver(_ message: BrokerMessage, to subscription: ServerSubscription) async throws {
        let contentType = message.headers[MicroHeader.contentType] ?? defaultContentType
        guard let index = codecs.index(of: contentType) else {
            throw MicroError.badRequest("\(subscription.topic): unsupported content type \(contentType)", id: name)
        }
        let metadata = RPCServer.callerMetadata(message.headers)
        var failure: (any Error)?
        for subscriber in subscribers where subscriber.subscription == subscription {
            let context = ServerContext(service: name, endpoint: subscriber.name, metadata: metadata, client: client)
            do {
                guard let codec = subscriber.decoders[index] else {
                    throw MicroError.badRequest(
                        "\(subscription.topic): no codec for \(contentType) decodes \(subscriber.event.type)", id: name
                    )
                }
                try await router.interceptors.run(context) { context in
                    try await CallContext.$current.withValue(CallContext(metadata: context.metadata)) {
                        try await subscriber.invoke(codec, message.body, context)
                    }
                }
            } catch {
                logger.warning(
                    "subscriber failed",
                    metadata: ["topic": "\(subscription.topic)", "subscriber": "\(subscriber.name)", "error": "\(error)"]
                )
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// The codecs of a call to `route`: the one that reads the request and the one that
    /// writes the answer (see the type's documentation).
    ///
    /// A request whose `Accept` is absent or the same as its `Content-Type` (what
    /// swift-micro and go-micro send) costs one comparison of the two.
    ///
    /// - Throws: a 400 ``MicroCore/MicroError`` when no codec of the request's content
    ///   type reads the request type, a 500 when no codec in the content types `Accept`
    ///   names, nor in the request's, writes the response type (a fault of the server's
    ///   set-up, found before the handler runs).
    private func callCodecs(_ route: Route, _ headers: RequestHeaders) throws -> CallCodecs {
        let contentType = headers.contentType ?? defaultContentType
        guard let index = codecs.index(of: contentType) else {
            let known = codecs.contentTypes.joined(separator: ", ")
            throw MicroError.badRequest("unsupported content type \(contentType); this server reads \(known)", id: name)
        }
        var replyIndex = index
        if let accept = headers.accept, accept != contentType {
            replyIndex = self.replyIndex(accept: accept, route: route, requestIndex: index)
        }
        // The usual case, answered in the request's content type: one reference, made once.
        if replyIndex == index, let codecs = route.sameTypeCodecs[index] { return codecs }
        guard let decoder = route.decoders[index] else {
            throw MicroError.badRequest("\(route.name): no codec for \(contentType) reads the request type \(route.request.type)", id: name)
        }
        guard let encoder = route.encoders[replyIndex] else {
            let accept = headers.accept.map { "\($0) (Accept) nor " } ?? ""
            throw MicroError.internalServerError(
                "\(route.name): no codec for \(accept)\(contentType) encodes the response type \(route.response.type)", id: name
            )
        }
        return CallCodecs(decoder: decoder, encoder: encoder)
    }

    /// The index of the first content type `accept` names (in the order listed; quality
    /// weights are not read) that has a codec for `route`'s response type; the request's
    /// (`requestIndex`) when there is none, or at a wildcard `*/*`.
    private func replyIndex(accept: String, route: Route, requestIndex: Int) -> Int {
        for item in accept.split(separator: ",") {
            let mediaType = Codecs.normalize(String(item))
            if mediaType == "*/*" { break }
            if let index = codecs.index(of: mediaType), route.encoders[index] != nil { return index }
        }
        return requestIndex
    }

    /// Runs the subscribers of `topic` for an event that came over the transport, as
    /// go-micro servers do for a message with `Micro-Topic` and no endpoint. The sender
    /// chose this node for the queue groups it serves.
    private func deliverEvent(_ message: TransportMessage, topic: String) async throws {
        let matching = subscriptions.filter { $0.topic == topic }
        guard !matching.isEmpty else {
            throw MicroError.notFound("service \(name): no subscriber for topic \(topic)", id: name)
        }
        let event = BrokerMessage(headers: message.headers, body: message.body)
        for subscription in matching { try await deliver(event, to: subscription) }
    }

    /// Runs the route inside the interceptors and the call context, racing the deadline.
    ///
    /// At the deadline the shared ``DeadlineTimer`` cancels the *current task*, and once
    /// the route has returned or thrown, the caller gets a 408. The task stays cancelled,
    /// which is why the handler must run in a task that ends with the call. No child
    /// task, task group or sleeping task is made per call, and no closure: the timer's
    /// entry is the only cost.
    private func run(_ route: Route, call: ServerCall, context: ServerContext) async throws -> ByteBuffer? {
        guard let deadline = context.deadlineTime else { return try await invoke(route, call: call, context: context) }
        // The task is only used inside the closure: `UnsafeCurrentTask` is resilient, so
        // keeping one across the `await` below would allocate room for it at run time.
        guard deadline > .now,
            let timer = withUnsafeCurrentTask(body: { task in task.map { DeadlineTimer.shared.schedule(cancelling: $0, at: deadline) } })
        else { throw deadlineExceeded(call.endpoint) }
        let result: Result<ByteBuffer?, any Error>
        do {
            result = .success(try await invoke(route, call: call, context: context))
        } catch {
            result = .failure(error)
        }
        // Withdrawn before this task goes on, so the task is alive whenever the timer
        // cancels it.
        if DeadlineTimer.shared.cancel(timer) { throw deadlineExceeded(call.endpoint) }
        return try result.get()
    }

    private func deadlineExceeded(_ endpoint: String) -> MicroError {
        MicroError.timeout("\(endpoint): deadline exceeded", id: name)
    }

    /// Runs the route inside the interceptors (if any) and the call context.
    private func invoke(_ route: Route, call: ServerCall, context: ServerContext) async throws -> ByteBuffer? {
        let interceptors = router.interceptors
        guard !interceptors.isEmpty else {
            // No closures for interceptors to build and call (the usual case).
            return try await CallContext.$current.withValue(CallContext(metadata: context.metadata, deadlineTime: context.deadlineTime)) {
                try await route.invoke(call, context)
            }
        }
        var result: ByteBuffer?
        try await interceptors.run(context) { context in
            result = try await CallContext.$current.withValue(CallContext(metadata: context.metadata, deadlineTime: context.deadlineTime)) {
                try await route.invoke(call, context)
            }
        }
        return result
    }

    /// The error to answer a failed call with; server-side failures (5xx) are logged.
    private func failure(_ error: any Error, endpoint: String) -> MicroError {
        let reply = microError(error, endpoint: endpoint)
        if reply.code >= 500, !reply.isNodeDraining {
            logger.warning("call failed", metadata: ["endpoint": "\(endpoint)", "error": "\(reply)"])
        }
        return reply
    }

    /// The error to send for `error`.
    private func microError(_ error: any Error, endpoint: String) -> MicroError {
        switch error {
        case var error as MicroError:
            if error.id.isEmpty { error.id = name }
            return error
        case is CancellationError:
            return MicroError.timeout("\(endpoint): cancelled", id: name)
        default:
            return MicroError.internalServerError("\(endpoint): \(error)", id: name)
        }
    }

    /// The headers minus the protocol's own.
    static func callerMetadata(_ headers: Metadata) -> Metadata {
        RequestHeaders(headers).metadata
    }

    /// The deadline from a `Timeout` header value (nanoseconds).
    static func deadline(timeout text: String?) -> ContinuousTime? {
        guard let text, let nanoseconds = Int64(text), nanoseconds > 0 else { return nil }
        return ContinuousTime.now.advanced(byNanoseconds: nanoseconds)
    }
}

/// A flag set once, read on every call without a lock.
final class DrainFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool {
        value.load(ordering: .relaxed)
    }

    func set() {
        value.store(true, ordering: .relaxed)
    }
}
