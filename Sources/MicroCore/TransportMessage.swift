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
///
/// Each is an inlinable constant: a use compiles to the string literal itself.
public enum MicroHeader {
    /// The called service's name.
    @inlinable public static var service: String { "Micro-Service" }
    /// The called endpoint, `Handler.Method`.
    @inlinable public static var endpoint: String { "Micro-Endpoint" }
    /// The called method; the same as the endpoint.
    @inlinable public static var method: String { "Micro-Method" }
    /// The call's id, echoed in the answer.
    @inlinable public static var id: String { "Micro-Id" }
    /// An error in JSON form (see ``MicroError``), or `EOS` to end a stream.
    @inlinable public static var error: String { "Micro-Error" }
    /// Marks the messages of a stream call.
    @inlinable public static var stream: String { "Micro-Stream" }
    /// The topic of a published event.
    @inlinable public static var topic: String { "Micro-Topic" }
    /// The time the caller still waits, in nanoseconds, as a decimal string.
    @inlinable public static var timeout: String { "Timeout" }
    /// The body's content type.
    @inlinable public static var contentType: String { "Content-Type" }
    /// The content type the caller wants back.
    @inlinable public static var accept: String { "Accept" }
    /// The `Micro-Error` value that ends a stream.
    @inlinable public static var endOfStream: String { "EOS" }
}
