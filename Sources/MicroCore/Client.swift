/// Calls services, streams with them, and publishes events.
///
/// The runtime's `RPCClient` selects a node per attempt, encodes with a ``Codec``, sends
/// over a ``Transport``, retries on 408, 503 and connection failures, and enforces a
/// deadline. Tests of code that calls services can put a fake in its place.
public protocol Client: Sendable {
    /// Calls `endpoint` (`Handler.Method`) of `service` and returns its answer.
    ///
    /// - Throws: ``MicroError``: the handler's own error, 404 for an unknown service or
    ///   endpoint, 408 when the deadline passes, 503 when no node can be reached.
    func call<Request: Sendable, Response: Sendable>(
        _ service: String,
        _ endpoint: String,
        request: Request,
        responseType: Response.Type,
        options: CallOptions
    ) async throws -> Response

    /// Opens a bidirectional stream to `endpoint` of `service` and runs `body` with it.
    ///
    /// The stream is closed when `body` returns. Leaving `body` early is fine: the server
    /// sees the end of the stream.
    func stream<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ service: String,
        _ endpoint: String,
        requestType: Request.Type,
        responseType: Response.Type,
        options: CallOptions,
        _ body: (ClientStream<Request, Response>) async throws -> Result
    ) async throws -> Result

    /// Publishes `event` to `topic` through the broker; returns once every subscriber
    /// (one member per queue group) acknowledged, saying how many did.
    @discardableResult
    func publish<Event: Sendable>(_ topic: String, _ event: Event, options: PublishOptions) async throws -> BrokerReceipt
}

extension Client {
    /// Calls `endpoint` of `service` with default options.
    public func call<Request: Sendable, Response: Sendable>(
        _ service: String,
        _ endpoint: String,
        request: Request,
        responseType: Response.Type = Response.self
    ) async throws -> Response {
        try await call(service, endpoint, request: request, responseType: responseType, options: CallOptions())
    }

    /// Opens a stream to `endpoint` of `service` with default options.
    public func stream<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ service: String,
        _ endpoint: String,
        requestType: Request.Type = Request.self,
        responseType: Response.Type = Response.self,
        _ body: (ClientStream<Request, Response>) async throws -> Result
    ) async throws -> Result {
        try await stream(
            service, endpoint, requestType: requestType, responseType: responseType,
            options: CallOptions(), body
        )
    }

    /// Publishes `event` to `topic` with default options.
    @discardableResult
    public func publish<Event: Sendable>(_ topic: String, _ event: Event) async throws -> BrokerReceipt {
        try await publish(topic, event, options: PublishOptions())
    }
}

/// How one call is made; every field left `nil` takes the client's default.
public struct CallOptions: Sendable {
    /// The time the whole call may take, retries included; default 5 s. A deadline the
    /// caller inherited from its own caller wins when it is earlier.
    public var timeout: Duration?
    /// How many times to retry after the first attempt; default 1.
    public var retries: Int?
    /// Metadata sent with the call, readable in the handler.
    public var metadata: Metadata
    /// Call this `host:port` and skip node selection.
    public var address: String?
    /// The content type to send; default the client's.
    public var contentType: String?
    /// Filters and strategy for node selection.
    public var select: SelectOptions

    /// Creates options.
    public init(
        timeout: Duration? = nil,
        retries: Int? = nil,
        metadata: Metadata = Metadata(),
        address: String? = nil,
        contentType: String? = nil,
        select: SelectOptions = SelectOptions()
    ) {
        self.timeout = timeout
        self.retries = retries
        self.metadata = metadata
        self.address = address
        self.contentType = contentType
        self.select = select
    }
}

/// How one event is published.
public struct PublishOptions: Sendable {
    /// Metadata sent as message headers.
    public var metadata: Metadata
    /// The content type to encode with; default the client's.
    public var contentType: String?

    /// Creates options.
    public init(metadata: Metadata = Metadata(), contentType: String? = nil) {
        self.metadata = metadata
        self.contentType = contentType
    }
}

/// The caller's side of a bidirectional stream.
///
/// Send requests with ``send(_:)``, say you are done with ``closeSend()`` (the server's
/// request sequence ends), and read answers from ``responses`` until the server ends the
/// stream.
public struct ClientStream<Request: Sendable, Response: Sendable>: Sendable {
    private let sendBody: @Sendable (Request) async throws -> Void
    private let closeBody: @Sendable () async throws -> Void
    private let receiveBody: @Sendable () async throws -> Response?

    /// Creates a stream from its operations; for `Client` implementations.
    public init(
        send: @escaping @Sendable (Request) async throws -> Void,
        closeSend: @escaping @Sendable () async throws -> Void,
        receive: @escaping @Sendable () async throws -> Response?
    ) {
        self.sendBody = send
        self.closeBody = closeSend
        self.receiveBody = receive
    }

    /// Sends one request.
    public func send(_ request: Request) async throws {
        try await sendBody(request)
    }

    /// Sends end-of-stream: the server's request sequence ends.
    public func closeSend() async throws {
        try await closeBody()
    }

    /// The next answer, or `nil` once the server ended the stream.
    ///
    /// - Throws: the server's ``MicroError`` if it ended the stream with one.
    public func receive() async throws -> Response? {
        try await receiveBody()
    }

    /// The answers, until the server ends the stream.
    public var responses: Responses { Responses(receive: receiveBody) }

    /// The answers of a stream as an `AsyncSequence`.
    public struct Responses: AsyncSequence, Sendable {
        let receive: @Sendable () async throws -> Response?

        /// Makes the iterator.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(receive: receive) }

        /// Iterates the answers.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let receive: @Sendable () async throws -> Response?

            /// The next answer, or `nil` at the end of the stream.
            public mutating func next() async throws -> Response? { try await receive() }
        }
    }
}
