public import NIOCore

/// What a transport moves: string headers plus a body of bytes.
public struct TransportMessage: Sendable {
    /// The headers; see ``MicroHeader`` for the names the runtime uses.
    public var headers: Metadata
    /// The body, encoded by a ``Codec``; empty for errors and stream control messages.
    public var body: ByteBuffer

    /// Creates a message.
    public init(headers: Metadata = Metadata(), body: ByteBuffer = ByteBuffer()) {
        self.headers = headers
        self.body = body
    }
}

/// A message published to or received from a ``Broker``.
public struct BrokerMessage: Sendable {
    /// The headers: `Content-Type`, `Micro-Topic`, `Micro-Id` and the publisher's metadata.
    public var headers: Metadata
    /// The encoded event.
    public var body: ByteBuffer

    /// Creates a message.
    public init(headers: Metadata = Metadata(), body: ByteBuffer = ByteBuffer()) {
        self.headers = headers
        self.body = body
    }
}

/// The header names of go-micro's "mucp" protocol.
public enum MicroHeader {
    /// The called service's name.
    public static let service = "Micro-Service"
    /// The called endpoint, `Handler.Method`.
    public static let endpoint = "Micro-Endpoint"
    /// The called method; the same as the endpoint.
    public static let method = "Micro-Method"
    /// The call's id, echoed in the answer.
    public static let id = "Micro-Id"
    /// An error in JSON form (see ``MicroError``), or `EOS` to end a stream.
    public static let error = "Micro-Error"
    /// Marks the messages of a stream call.
    public static let stream = "Micro-Stream"
    /// The topic of a published event.
    public static let topic = "Micro-Topic"
    /// The time the caller still waits, in nanoseconds, as a decimal string.
    public static let timeout = "Timeout"
    /// The body's content type.
    public static let contentType = "Content-Type"
    /// The content type the caller wants back.
    public static let accept = "Accept"
    /// The `Micro-Error` value that ends a stream.
    public static let endOfStream = "EOS"
}
