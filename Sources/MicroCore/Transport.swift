/// Moves ``TransportMessage``s between a client and a server.
///
/// A connection carries many logical streams at once: each call (unary or streaming) is
/// one ``TransportStream``. Backends: `MemoryTransport` (one process), `TCPTransport`,
/// `TLSTransport`. Every backend passes `TransportConformance` from `MicroTesting`.
public protocol Transport: Sendable {
    /// Connects to a listener at `address`.
    ///
    /// - Throws: ``TransportError`` when nothing answers within `timeout`.
    func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection

    /// Listens on `address` (`host:port`; port 0 picks a free one).
    func listen(_ address: String) async throws -> any TransportListener
}

/// A client's connection to one server; it multiplexes many streams.
public protocol TransportConnection: Sendable {
    /// The address that was dialled.
    var address: String { get }

    /// Whether the connection can still open streams.
    var isOpen: Bool { get }

    /// Opens a new stream (one call) on this connection.
    func openStream() async throws -> any TransportStream

    /// One unary exchange: opens a stream, sends `request` with the end of stream, and
    /// returns the peer's first message, waiting no later than `deadline` when there is
    /// one; `nil` when the peer closed its side without answering.
    ///
    /// The client makes its unary calls with this. The default does exactly that with
    /// ``openStream()``, ``TransportStream/send(_:endOfStream:)`` and
    /// ``TransportStream/receive(before:)``; a transport that can open and send without
    /// suspending (TCP) implements it so that a call suspends once, for the answer.
    ///
    /// A round trip the caller abandons, when `deadline` passes or its task is
    /// cancelled, resets its stream (``TransportStream/reset()``): the server's handler
    /// is cancelled and neither side keeps the stream.
    ///
    /// - Throws: ``TransportDeadlineExceeded`` when `deadline` passes first,
    ///   ``TransportError`` when the stream could not be opened or the connection broke.
    func roundTrip(_ request: TransportMessage, before deadline: ContinuousClock.Instant?) async throws -> TransportMessage?

    /// Closes the connection; its open streams fail with ``TransportError``.
    func close() async
}

extension TransportConnection {
    /// Opens a stream, sends `request` with the end of stream and receives the first
    /// message back; see the requirement.
    public func roundTrip(_ request: TransportMessage, before deadline: ContinuousClock.Instant?) async throws -> TransportMessage? {
        let stream = try await openStream()
        try await stream.send(request, endOfStream: true)
        guard let deadline else { return try await stream.receive() }
        return try await stream.receive(before: deadline)
    }
}

/// One call's messages in both directions.
///
/// Either side may send any number of messages, then ``close()`` to say it sends no more;
/// the other side's ``receive()`` then returns `nil` once it has read what came before.
/// The stream is released when both sides have closed, when either side resets it, or
/// when the connection is gone.
///
/// A side that gives up on a stream resets it (``reset()``): both sides forget it at
/// once, and the peer's pending and later sends and receives throw
/// ``TransportError/Code/streamReset``; on a server the stream's handler task is
/// cancelled. A client's stream is reset by the transport itself when the client
/// abandons it: when a receive's deadline passes (``receive(before:)``,
/// ``TransportConnection/roundTrip(_:before:)``) or a client task waiting in a receive
/// is cancelled.
public protocol TransportStream: Sendable {
    /// Sends a message.
    ///
    /// - Throws: ``TransportError`` when the connection is gone or the stream was closed.
    func send(_ message: TransportMessage) async throws

    /// Sends a message and, when `endOfStream` is `true`, closes this side right after it
    /// as ``close()`` does: the last message of a call and its end of stream in one go.
    ///
    /// The default calls ``send(_:)`` and then ``close()``; a transport that can put both
    /// in one write (TCP) implements it to save a write and a wake-up per call.
    ///
    /// - Throws: ``TransportError`` when the connection is gone or the stream was closed;
    ///   this side is then not closed.
    func send(_ message: TransportMessage, endOfStream: Bool) async throws

    /// The next message from the peer; `nil` once the peer closed its side.
    ///
    /// - Throws: ``TransportError`` when the connection broke before the peer closed.
    func receive() async throws -> TransportMessage?

    /// The next message from the peer, waiting no later than `deadline`; `nil` once the
    /// peer closed its side.
    ///
    /// When `deadline` passes first the stream is abandoned: it is reset, as ``reset()``
    /// does, so the peer stops working on it and neither side keeps it.
    ///
    /// The default races ``receive()`` against a timer in a task group and calls
    /// ``reset()`` when the timer wins; a transport that can time out a waiting receive
    /// by itself implements this without the extra tasks.
    ///
    /// - Throws: ``TransportDeadlineExceeded`` when `deadline` passes first (the stream
    ///   is then reset), ``TransportError`` when the connection broke or the stream was
    ///   reset.
    func receive(before deadline: ContinuousClock.Instant) async throws -> TransportMessage?

    /// Says this side sends no more messages.
    func close() async

    /// Abandons the stream in both directions: tells the peer (whose pending and later
    /// sends and receives then throw ``TransportError/Code/streamReset``, and whose
    /// server handler task is cancelled), drops what was received and not read, and
    /// releases the stream on both sides. This side's later sends and receives throw
    /// ``TransportError/Code/streamReset`` too. Does nothing once the stream has ended
    /// on both sides, was reset, or its connection is gone.
    ///
    /// The default calls ``close()``: a transport that cannot tell its peer to stop at
    /// least says that this side sends no more. Every transport that can (TCP, memory)
    /// implements it.
    func reset() async
}

extension TransportStream {
    /// Sends `message`, then closes this side when `endOfStream` is `true`; see the
    /// requirement.
    public func send(_ message: TransportMessage, endOfStream: Bool) async throws {
        try await send(message)
        if endOfStream { await close() }
    }

    /// Races ``receive()`` against `deadline`, resetting the stream when the deadline
    /// wins; see the requirement.
    public func receive(before deadline: ContinuousClock.Instant) async throws -> TransportMessage? {
        do {
            guard deadline > .now else { throw TransportDeadlineExceeded() }
            return try await withThrowingTaskGroup(of: TransportMessage?.self) { group in
                group.addTask { try await self.receive() }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    throw TransportDeadlineExceeded()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw TransportDeadlineExceeded() }
                return first
            }
        } catch let error as TransportDeadlineExceeded {
            await reset()
            throw error
        }
    }

    /// Closes this side; see the requirement.
    public func reset() async {
        await close()
    }
}

/// ``TransportStream/receive(before:)`` gave up: the deadline passed before a message
/// came.
public struct TransportDeadlineExceeded: Error, Sendable, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}

    /// `deadline exceeded while waiting for a message`
    public var description: String { "deadline exceeded while waiting for a message" }
}

/// A server's listening endpoint.
public protocol TransportListener: Sendable {
    /// The address actually bound, `host:port`, with the real port when 0 was asked for.
    var address: String { get }

    /// Accepts streams and runs `handler` for each, concurrently, until ``close()``.
    ///
    /// Each stream gets a task of its own. A listener may start that task on its I/O
    /// thread, where it runs until its first suspension (TCP does, so a call answered
    /// without waiting costs no thread hop); `handler` must not block that thread for long.
    ///
    /// Returns after `close()` once every handler it started has returned.
    func serve(_ handler: @escaping @Sendable (any TransportStream) async -> Void) async throws

    /// Serves like ``serve(_:)``, answering what it can at once with `immediate`.
    ///
    /// When a stream opens with its first message already read, a listener may call
    /// `immediate` with that message on its I/O thread instead of starting a task:
    /// - an answer is sent with the end of stream, and the stream ends as if a handler
    ///   had returned (later messages on it are dropped); no task is started;
    /// - `nil` sends the stream to `handler` as usual, its first message still to be
    ///   received.
    ///
    /// `immediate` must not block and must answer as `handler` would, since a listener
    /// is free never to call it: the default implementation does not, and calls
    /// ``serve(_:)``. TCP calls it for every stream its peer opens.
    func serve(
        immediately immediate: @escaping @Sendable (TransportMessage) -> TransportMessage?,
        _ handler: @escaping @Sendable (any TransportStream) async -> Void
    ) async throws

    /// Stops accepting new connections, the first step of a graceful shutdown: dials to
    /// the address fail from now on (and callers try another node), while the
    /// connections already open keep working until ``close()``. Refusing new streams on
    /// those is the server's part (a draining `RPCServer` answers them with
    /// ``MicroError/nodeDraining(_:)``).
    ///
    /// The default does nothing: the listener keeps accepting until ``close()``.
    func stopAccepting() async

    /// Stops accepting, closes the connections, and makes ``serve(_:)`` return.
    func close() async
}

extension TransportListener {
    /// Keeps accepting until ``close()``; see the requirement.
    public func stopAccepting() async {}

    /// Serves every stream with `handler` and never calls `immediate`; see the
    /// requirement.
    public func serve(
        immediately immediate: @escaping @Sendable (TransportMessage) -> TransportMessage?,
        _ handler: @escaping @Sendable (any TransportStream) async -> Void
    ) async throws {
        try await serve(handler)
    }
}

/// A failure to move messages: the connection could not be made, or broke.
///
/// The client retries a call that failed with a `TransportError` on another node.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The address could not be reached (refused, unreachable, dial timeout).
        case connectFailed
        /// The connection broke or was closed while the stream was in use.
        case connectionClosed
        /// The stream was already closed on this side.
        case streamClosed
        /// The address is not of a form the transport understands.
        case invalidAddress
        /// A message exceeded the transport's size limit.
        case messageTooLarge
        /// The stream was reset: one side abandoned it (``TransportStream/reset()``, a
        /// missed receive deadline, a cancelled client); the message says which side.
        case streamReset
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, naming the address where known.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `connectFailed: …`
    public var description: String { "\(code.rawValue): \(message)" }
}
