#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
public import MicroCore
import NIOCore
import Synchronization

/// The client of go-micro's "mucp" protocol.
///
/// Each call selects a node per attempt, sends the request with the mucp headers over a
/// pooled connection, and waits for the answer until the deadline: the call's timeout
/// (default 5 s) or the deadline inherited from the call being handled, whichever is
/// earlier. It retries (default once) only on 408, 503 and connection failures, with
/// go-micro's backoff, and reports each attempt to the selector.
///
/// Codecs are negotiated per call: a request (or event) is encoded by the first codec
/// (in link order) of the call's content type that can encode its type, and sent with
/// that `Content-Type` and the same `Accept`. The answer is decoded by its own
/// `Content-Type` (a server may answer in another content type than asked), with the
/// first codec of that type that can decode the response type, or with the request's
/// content type when the answer names none; streams do so for every message. A content
/// type served by a single codec takes it without asking it.
public final class RPCClient: Client {
    /// The client's defaults.
    public struct Configuration: Sendable {
        /// The time a call may take, retries included; go-micro's default 5 s.
        public var requestTimeout: Duration = .seconds(5)
        /// Retries after the first attempt; go-micro's default 1.
        public var retries: Int = 1
        /// The error codes retried (connection failures are always retried).
        public var retryCodes: Set<Int32> = [408, 503]
        /// The wait before each retry.
        public var backoff = Backoff()
        /// The content type requests are sent in.
        public var contentType: String = "application/json"
        /// How long a dial may take.
        public var dialTimeout: Duration = .seconds(5)
        /// Connections kept per address; each carries many calls at once.
        public var poolSize: Int = 2

        /// Creates the defaults.
        public init() {}

        /// Reads `client_retries`, `client_request_timeout` and `content_type`.
        public init(options: MicroOptions) throws {
            if let retries = try options.integer(OptionKey.clientRetries.name) { self.retries = max(0, retries) }
            if let timeout = try options.duration(OptionKey.clientRequestTimeout.name) { requestTimeout = timeout }
            if let contentType = options[OptionKey.contentType], !contentType.isEmpty { self.contentType = contentType }
        }
    }

    /// The client's defaults.
    public let configuration: Configuration
    private let selector: any Selector
    private let codecs: Codecs
    /// Where ``Configuration/contentType`` is in ``codecs``, found once instead of on
    /// every call.
    private let defaultIndex: Int?
    private let broker: (any Broker)?
    private let directPublisher: DirectPublisher?
    /// A cache made for `registry` when no shared one was given; its watches stop with
    /// the client.
    private let ownCache: RegistryCache?
    private let interceptors: [any ClientInterceptor]
    private let pool: ConnectionPool
    private let logger: Logger
    private let nextID = Atomic<UInt64>(0)
    /// ``Configuration/requestTimeout`` in nanoseconds, converted once instead of per call.
    private let requestTimeout: Int64

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - selector: picks a node per attempt.
    ///   - transport: carries the calls.
    ///   - codecs: the codecs it can send and read; one must match the content type.
    ///   - broker: where ``publish(_:_:options:)`` sends events.
    ///   - registry: without a broker, ``publish(_:_:options:)`` finds subscribers here
    ///     (through a cache of its own) and sends them events over the transport; with
    ///     neither this nor `registryCache`, publish fails.
    ///   - registryCache: the same through a shared cache; preferred to `registry`.
    ///   - interceptors: wrap every call and publish, the first outermost.
    ///   - configuration: defaults for timeouts, retries and content type.
    ///   - logger: where retries are logged.
    public init(
        selector: any Selector,
        transport: any Transport,
        codecs: [any Codec],
        broker: (any Broker)? = nil,
        registry: (any Registry)? = nil,
        registryCache: RegistryCache? = nil,
        interceptors: [any ClientInterceptor] = [],
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "micro.client")
    ) {
        self.selector = selector
        self.codecs = Codecs(codecs)
        self.defaultIndex = self.codecs.index(of: configuration.contentType)
        self.broker = broker
        self.ownCache = registryCache == nil ? registry.map { RegistryCache(registry: $0) } : nil
        self.directPublisher = (registryCache ?? ownCache).map { DirectPublisher(cache: $0) }
        self.interceptors = interceptors
        self.configuration = configuration
        self.requestTimeout = configuration.requestTimeout.wholeNanoseconds
        self.pool = ConnectionPool(transport: transport, size: configuration.poolSize, dialTimeout: configuration.dialTimeout)
        self.logger = logger
    }

    deinit {
        ownCache?.stopWatches()
    }

    /// Closes the pooled connections.
    public func close() async {
        await pool.close()
    }

    /// Calls `endpoint` of `service`; see ``Client/call(_:_:request:responseType:options:)``.
    public func call<Request: Sendable, Response: Sendable>(
        _ service: String,
        _ endpoint: String,
        request: Request,
        responseType: Response.Type,
        options: CallOptions
    ) async throws -> Response {
        let index = try contentTypeIndex(options.contentType)
        let codec = try encoder(at: index, for: Request.self)
        let body: ByteBuffer
        do {
            body = try codec.encode(request)
        } catch {
            throw MicroError.badRequest("\(service) \(endpoint): could not encode request \(Request.self): \(error)", id: RPCClient.id)
        }
        let now = ContinuousTime.now
        let context = makeContext(
            service, endpoint, options: options, timeout: options.timeout?.wholeNanoseconds ?? requestTimeout, now: now
        )
        var answer: TransportMessage?
        if interceptors.isEmpty {
            // No closure to build and call when nothing intercepts (the usual case); the
            // first attempt starts now, so it reuses the clock reading.
            answer = try await callWithRetries(context, body: body, codec: codec, options: options, start: now)
        } else {
            try await interceptors.run(context) { context in
                answer = try await callWithRetries(context, body: body, codec: codec, options: options)
            }
        }
        guard let answer else {
            throw MicroError.internalServerError("\(service) \(endpoint): an interceptor returned without calling", id: RPCClient.id)
        }
        let decoder = try replyDecoder(answer.headers[MicroHeader.contentType], requestCodec: codec, requestIndex: index, for: Response.self)
        do {
            return try decoder.decode(Response.self, from: answer.body)
        } catch {
            throw MicroError.internalServerError(
                "\(service) \(endpoint): could not decode response as \(Response.self): \(error)", id: RPCClient.id
            )
        }
    }

    /// Opens a stream to `endpoint` of `service`; see
    /// ``Client/stream(_:_:requestType:responseType:options:_:)``.
    ///
    /// A stream has no deadline unless `options.timeout` sets one or the caller inherited
    /// one; then every receive gives up at it with a 408.
    public func stream<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ service: String,
        _ endpoint: String,
        requestType: Request.Type,
        responseType: Response.Type,
        options: CallOptions,
        _ body: (ClientStream<Request, Response>) async throws -> Result
    ) async throws -> Result {
        let index = try contentTypeIndex(options.contentType)
        let codec = try encoder(at: index, for: Request.self)
        let responseCodec = try replyDecoder(nil, requestCodec: codec, requestIndex: index, for: Response.self)
        let context = makeContext(service, endpoint, options: options, timeout: options.timeout?.wholeNanoseconds, now: .now)
        var result: Result?
        try await interceptors.run(context) { context in
            let transportStream = try await openStream(context, codec: codec, options: options)
            let stream = ClientStreamCall<Request, Response>(
                stream: transportStream, codec: codec, responseCodec: responseCodec, context: context, streamID: transportStream.streamID,
                replyDecoder: { contentType in
                    try self.replyDecoder(contentType, requestCodec: codec, requestIndex: index, for: Response.self)
                }
            )
            do {
                result = try await body(stream.clientStream)
                await stream.finish()
            } catch {
                // The caller gave up on the stream: the server's handler is cancelled.
                await stream.abandon()
                throw error
            }
        }
        guard let result else {
            throw MicroError.internalServerError("\(service) \(endpoint): an interceptor returned without calling", id: RPCClient.id)
        }
        return result
    }

    /// Publishes `event` to `topic` through the broker, or without one over the
    /// transport; returns when every broadcast subscriber and one member of each queue
    /// group acknowledged.
    @discardableResult
    public func publish<Event: Sendable>(_ topic: String, _ event: Event, options: PublishOptions) async throws -> BrokerReceipt {
        guard broker != nil || directPublisher != nil else {
            throw MicroError.internalServerError("publish to \(topic): this client has no broker and no registry", id: RPCClient.id)
        }
        let codec = try encoder(at: try contentTypeIndex(options.contentType), for: Event.self)
        let body: ByteBuffer
        do {
            body = try codec.encode(event)
        } catch {
            throw MicroError.badRequest("publish to \(topic): could not encode \(Event.self): \(error)", id: RPCClient.id)
        }
        var metadata = CallContext.current?.metadata ?? Metadata()
        metadata.merge(options.metadata)
        let context = ClientContext(service: "", endpoint: topic, metadata: metadata, deadline: nil)
        var receipt = BrokerReceipt()
        try await interceptors.run(context) { context in
            var headers = context.metadata
            headers[MicroHeader.contentType] = codec.contentType
            headers[MicroHeader.topic] = topic
            headers[MicroHeader.id] = UUID().uuidString.lowercased()
            if let broker {
                receipt = try await broker.publish(topic, message: BrokerMessage(headers: headers, body: body))
            } else if let directPublisher {
                receipt = try await publishDirectly(topic, message: TransportMessage(headers: headers, body: body), via: directPublisher)
            }
        }
        return receipt
    }

    /// How an event sent without a broker fared at one broadcast node or queue group.
    private enum DirectDelivery: Sendable {
        case subscriber, group, leaving
        case failed(MicroError)
    }

    /// Sends an event to every broadcast subscriber node and to one member of each queue
    /// group (the next member when one fails), concurrently; the first failure is thrown
    /// once every target was tried. A broadcast node that refuses because it is shutting
    /// down is not a failure: it is leaving.
    private func publishDirectly(_ topic: String, message: TransportMessage, via publisher: DirectPublisher) async throws -> BrokerReceipt {
        let targets = try await publisher.targets(for: topic)
        let (receipt, failures) = await withTaskGroup(of: DirectDelivery.self) { group in
            for address in targets.broadcast {
                group.addTask {
                    do throws(MicroError) {
                        try await self.deliverEvent(topic, message: message, to: address)
                        return .subscriber
                    } catch {
                        return error.isNodeDraining ? .leaving : .failed(error)
                    }
                }
            }
            for queueGroup in targets.groups {
                group.addTask {
                    var failure: MicroError?
                    for address in queueGroup.members {
                        do throws(MicroError) {
                            try await self.deliverEvent(topic, message: message, to: address)
                            return .group
                        } catch {
                            failure = failure ?? error
                        }
                    }
                    return failure.map { .failed($0) } ?? .leaving
                }
            }
            var receipt = BrokerReceipt()
            var failures: [MicroError] = []
            for await delivery in group {
                switch delivery {
                case .subscriber: receipt.subscribers += 1
                case .group: receipt.groups += 1
                case .leaving: break
                case .failed(let error): failures.append(error)
                }
            }
            return (receipt, failures)
        }
        if let failure = failures.first { throw failure }
        return receipt
    }

    /// Sends one event to the node at `address` and waits for its acknowledgement.
    private func deliverEvent(_ topic: String, message: TransportMessage, to address: String) async throws(MicroError) {
        do {
            let now = ContinuousTime.now
            _ = try await send(
                address, headers: message.headers, body: message.body, deadline: now.advanced(byNanoseconds: requestTimeout), now: now,
                timeout: MicroError.timeout("publish to \(topic) at \(address) timed out", id: RPCClient.id)
            )
        } catch {
            let error = microError(error, service: topic, address: address)
            if !error.isNodeDraining {
                logger.warning("event not delivered", metadata: ["topic": "\(topic)", "address": "\(address)", "error": "\(error)"])
            }
            throw error
        }
    }

    // MARK: - Calls

    static let id = "micro.client"

    /// Where the content type of a call (`contentType`, else the configured one) is in
    /// ``codecs``.
    private func contentTypeIndex(_ contentType: String?) throws -> Int {
        if let defaultIndex, contentType == nil || contentType == configuration.contentType { return defaultIndex }
        let contentType = contentType ?? configuration.contentType
        guard let index = codecs.index(of: contentType) else {
            let known = codecs.contentTypes.joined(separator: ", ")
            throw MicroError.badRequest(
                "no codec for content type \(contentType); linked: \(known.isEmpty ? "none" : known)", id: RPCClient.id
            )
        }
        return index
    }

    /// The codec that encodes a `Value` in the content type at `index`.
    private func encoder<Value>(at index: Int, for type: Value.Type) throws -> any Codec {
        guard let codec = codecs.encoder(at: index, for: Value.self) else {
            throw MicroError.badRequest("no codec for \(codecs.contentType(at: index)) encodes \(Value.self)", id: RPCClient.id)
        }
        return codec
    }

    /// The codec that decodes a `Response` from an answer whose `Content-Type` is
    /// `contentType`: the first codec that can decode it of the answer's content type,
    /// or of the request's when the answer names none (go-micro leaves it out of an
    /// empty answer).
    ///
    /// - Throws: a 500 ``MicroCore/MicroError`` (the answer cannot be read) when no
    ///   linked codec of that content type decodes `Response`.
    private func replyDecoder<Response>(
        _ contentType: String?, requestCodec: any Codec, requestIndex: Int, for type: Response.Type
    ) throws -> any Codec {
        let index: Int
        if let contentType, contentType != requestCodec.contentType {
            guard let found = codecs.index(of: contentType) else {
                throw MicroError.internalServerError(
                    "the answer is in \(contentType), which no linked codec reads (linked: \(codecs.contentTypes.joined(separator: ", ")))",
                    id: RPCClient.id
                )
            }
            index = found
        } else {
            index = requestIndex
        }
        guard let codec = codecs.decoder(at: index, for: Response.self) else {
            throw MicroError.internalServerError(
                "no codec for \(codecs.contentType(at: index)) decodes the answer as \(Response.self)", id: RPCClient.id
            )
        }
        return codec
    }

    /// The context of a new call: inherited metadata and deadline merged with the options.
    ///
    /// - Parameter timeout: nanoseconds from `now` to the call's own deadline, if any.
    private func makeContext(
        _ service: String, _ endpoint: String, options: CallOptions, timeout: Int64?, now: ContinuousTime
    ) -> ClientContext {
        let inherited = CallContext.current
        var metadata = inherited?.metadata ?? Metadata()
        metadata.merge(options.metadata)
        var deadline = timeout.map { now.advanced(byNanoseconds: $0) }
        if let inheritedDeadline = inherited?.deadlineTime, deadline.map({ inheritedDeadline < $0 }) ?? true {
            deadline = inheritedDeadline
        }
        return ClientContext(service: service, endpoint: endpoint, metadata: metadata, deadlineTime: deadline)
    }

    /// The request headers of a call.
    ///
    /// - Parameter id: the call's id; a new one when `nil`.
    private func headers(_ context: ClientContext, codec: any Codec, id: String? = nil) -> Metadata {
        // Room for the timeout header `send` adds, so the fields are allocated once.
        var headers = Metadata(capacity: 8 + context.metadata.count)
        headers.append(MicroHeader.service, context.service)
        headers.append(MicroHeader.endpoint, context.endpoint)
        headers.append(MicroHeader.method, context.endpoint)
        headers.append(MicroHeader.id, id ?? newID())
        headers.append(MicroHeader.contentType, codec.contentType)
        headers.append(MicroHeader.accept, codec.contentType)
        for field in context.metadata { headers.append(field.name, field.value) }
        return headers
    }

    /// A new call id.
    private func newID() -> String {
        String(decimal: nextID.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// - Parameter start: a clock reading taken just before, used for the first attempt.
    private func callWithRetries(
        _ context: ClientContext, body: ByteBuffer, codec: any Codec, options: CallOptions, start: ContinuousTime? = nil
    ) async throws -> TransportMessage {
        let retries = max(0, options.retries ?? configuration.retries)
        // One id for every attempt; the headers are built afresh per attempt, so `send`
        // appends the timeout without copying them.
        let id = newID()
        var lastError: MicroError?
        var retry = 0
        // Refusals of draining nodes: no handler ran, so they go to another node without
        // counting as retries or waiting for the backoff (bounded all the same).
        var refusals = 0
        while retry <= retries {
            let isFirst = retry == 0 && refusals == 0
            if retry > 0, lastError?.isNodeDraining != true {
                let delay = configuration.backoff.delay(forAttempt: retry)
                if let deadline = context.deadlineTime, ContinuousTime.now + delay >= deadline { break }
                try await Task.sleep(for: delay)
            }
            let now = isFirst ? start ?? .now : .now
            if let deadline = context.deadlineTime, deadline <= now { break }
            let (address, node) = try await target(context.service, options: options)
            do {
                let answer = try await send(
                    address, headers: headers(context, codec: codec, id: id), body: body, deadline: context.deadlineTime, now: now,
                    timeout: MicroError.timeout("call to \(context.service) \(context.endpoint) timed out", id: RPCClient.id)
                )
                if let node { await selector.mark(context.service, node: node, error: nil) }
                return answer
            } catch {
                if let node { await selector.mark(context.service, node: node, error: error) }
                let failure = microError(error, service: context.service, address: address)
                lastError = failure
                if failure.isNodeDraining, options.address == nil, refusals < RPCClient.maxDrainingRefusals {
                    refusals += 1
                    continue
                }
                guard isRetryable(error), retry < retries else { throw failure }
                logger.debug(
                    "retrying call",
                    metadata: ["service": "\(context.service)", "endpoint": "\(context.endpoint)", "attempt": "\(retry + 1)", "error": "\(failure)"]
                )
                retry += 1
            }
        }
        throw lastError ?? MicroError.timeout("call to \(context.service) \(context.endpoint) timed out", id: RPCClient.id)
    }

    /// How many refusals of draining nodes one call goes past (they cost no retry).
    static let maxDrainingRefusals = 3

    /// Where the next attempt goes: the fixed address, or a selected node.
    private func target(_ service: String, options: CallOptions) async throws -> (String, Node?) {
        if let address = options.address { return (address, nil) }
        let node = try await selector.select(service, options: options.select)
        return (node.address, node)
    }

    /// One attempt of a unary call to `address`; `now` is a recent reading of the clock,
    /// for the time left that the `Timeout` header carries.
    private func send(
        _ address: String, headers: consuming Metadata, body: ByteBuffer, deadline: ContinuousTime?, now: ContinuousTime,
        timeout: @autoclosure () -> MicroError
    ) async throws -> TransportMessage {
        let connection = try await pool.connection(to: address)
        // `headers` is consumed: appending here does not copy the caller's fields.
        if let deadline {
            headers.append(MicroHeader.timeout, RPCClient.timeout(until: deadline, from: now))
        }
        // The request and its end of stream leave in one write; the call suspends only
        // for the answer.
        let reply: TransportMessage?
        do {
            reply = try await connection.roundTrip(TransportMessage(headers: headers, body: body), before: deadline?.instant)
        } catch is TransportDeadlineExceeded {
            throw timeout()
        } catch {
            // A connection that broke is dropped, so the next call dials afresh.
            if !connection.isOpen { await pool.discard(connection) }
            throw error
        }
        guard let reply else {
            throw TransportError(.connectionClosed, "\(address) ended the call without answering")
        }
        if let error = reply.headers[MicroHeader.error] { throw MicroError.parse(error) }
        return reply
    }

    /// The `Timeout` header's value: the nanoseconds from `now` to `deadline`, at least 1
    /// (a server reads 0 as no deadline at all).
    private static func timeout(until deadline: ContinuousTime, from now: ContinuousTime) -> String {
        String(decimal: UInt64(max(1, deadline.nanoseconds(since: now))))
    }

    private func openStream(_ context: ClientContext, codec: any Codec, options: CallOptions) async throws -> OpenedStream {
        let retries = max(0, options.retries ?? configuration.retries)
        var lastError: (any Error)?
        for attempt in 0...retries {
            if attempt > 0 { try await Task.sleep(for: configuration.backoff.delay(forAttempt: attempt)) }
            let (address, node) = try await target(context.service, options: options)
            do {
                let connection = try await pool.connection(to: address)
                let stream = try await connection.openStream()
                var headers = headers(context, codec: codec)
                let streamID = headers[MicroHeader.id] ?? "0"
                headers.append(MicroHeader.stream, streamID)
                if let deadline = context.deadlineTime {
                    headers.append(MicroHeader.timeout, RPCClient.timeout(until: deadline, from: .now))
                }
                try await stream.send(TransportMessage(headers: headers))
                if let node { await selector.mark(context.service, node: node, error: nil) }
                return OpenedStream(stream: stream, streamID: streamID)
            } catch {
                if let node { await selector.mark(context.service, node: node, error: error) }
                lastError = microError(error, service: context.service, address: address)
                guard error is TransportError else { break }
            }
        }
        throw lastError ?? MicroError.serviceUnavailable("\(context.service): no stream could be opened", id: RPCClient.id)
    }

    private func isRetryable(_ error: any Error) -> Bool {
        if error is TransportError { return true }
        if let error = error as? MicroError { return configuration.retryCodes.contains(error.code) }
        return false
    }

    /// `MicroError` as it is, a transport failure as 503 naming the address.
    private func microError(_ error: any Error, service: String, address: String) -> MicroError {
        switch error {
        case let error as MicroError:
            return error
        case let error as TransportError:
            return MicroError.serviceUnavailable("service \(service) at \(address): \(error)", id: RPCClient.id)
        default:
            return MicroError.internalServerError("service \(service) at \(address): \(error)", id: RPCClient.id)
        }
    }
}

/// A transport stream opened for a stream call, with the id its messages carry.
struct OpenedStream: Sendable {
    let stream: any TransportStream
    let streamID: String
}

/// The client's side of one stream call.
final class ClientStreamCall<Request: Sendable, Response: Sendable>: Sendable {
    private let stream: any TransportStream
    /// Encodes the requests.
    private let codec: any Codec
    /// Decodes answers that name no content type or the request's.
    private let responseCodec: any Codec
    /// Finds the codec for an answer in another content type.
    private let replyDecoder: @Sendable (String) throws -> any Codec
    private let context: ClientContext
    private let streamID: String
    private let state = Mutex<(sendClosed: Bool, ended: Bool)>((false, false))

    init(
        stream: OpenedStream, codec: any Codec, responseCodec: any Codec, context: ClientContext, streamID: String,
        replyDecoder: @escaping @Sendable (String) throws -> any Codec
    ) {
        self.stream = stream.stream
        self.codec = codec
        self.responseCodec = responseCodec
        self.replyDecoder = replyDecoder
        self.context = context
        self.streamID = streamID
    }

    var clientStream: ClientStream<Request, Response> {
        ClientStream(
            send: { try await self.send($0) },
            closeSend: { try await self.closeSend() },
            receive: { try await self.receive() }
        )
    }

    private var messageHeaders: Metadata {
        var headers = Metadata()
        headers.append(MicroHeader.stream, streamID)
        headers.append(MicroHeader.contentType, codec.contentType)
        return headers
    }

    func send(_ request: Request) async throws {
        guard !state.withLock({ $0.sendClosed }) else {
            throw MicroError.badRequest("\(context.endpoint): send after closeSend()", id: RPCClient.id)
        }
        let body: ByteBuffer
        do {
            body = try codec.encode(request)
        } catch {
            throw MicroError.badRequest("\(context.endpoint): could not encode \(Request.self): \(error)", id: RPCClient.id)
        }
        try await stream.send(TransportMessage(headers: messageHeaders, body: body))
    }

    func closeSend() async throws {
        let alreadyClosed = state.withLock { state in
            defer { state.sendClosed = true }
            return state.sendClosed
        }
        guard !alreadyClosed else { return }
        var headers = messageHeaders
        headers[MicroHeader.error] = MicroHeader.endOfStream
        try await stream.send(TransportMessage(headers: headers), endOfStream: true)
    }

    func receive() async throws -> Response? {
        guard !state.withLock({ $0.ended }) else { return nil }
        let message: TransportMessage?
        if let deadline = context.deadline {
            do {
                message = try await stream.receive(before: deadline)
            } catch is TransportDeadlineExceeded {
                throw MicroError.timeout("stream \(context.service) \(context.endpoint) timed out", id: RPCClient.id)
            }
        } else {
            message = try await stream.receive()
        }
        guard let message else {
            state.withLock { $0.ended = true }
            return nil
        }
        if let error = message.headers[MicroHeader.error] {
            state.withLock { $0.ended = true }
            if error == MicroHeader.endOfStream { return nil }
            throw MicroError.parse(error)
        }
        var decoder = responseCodec
        if let contentType = message.headers[MicroHeader.contentType], contentType != codec.contentType {
            decoder = try replyDecoder(contentType)
        }
        do {
            return try decoder.decode(Response.self, from: message.body)
        } catch {
            throw MicroError.internalServerError(
                "\(context.endpoint): could not decode stream message as \(Response.self): \(error)", id: RPCClient.id
            )
        }
    }

    /// Ends a call the caller gave up on (its body threw): the stream is reset on both
    /// sides, so the server cancels its handler and neither side keeps the stream.
    func abandon() async {
        state.withLock { $0 = (true, true) }
        await stream.reset()
    }

    /// Ends the call: end-of-stream if not sent yet, then the transport stream's close.
    func finish() async {
        try? await closeSend()
        await stream.close()
    }
}
