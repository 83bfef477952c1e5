public import NIOCore

/// Turns values into bytes and back for one content type.
///
/// The runtime picks a codec by the `Content-Type` of each message and the Swift type at
/// hand. Several codecs may serve one content type (protobuf's JSON mapping and
/// CodecJSON both read `application/json`): the first linked one that says it can handle
/// the type (``canEncode(_:)``, ``canDecode(_:)``) is used. A codec throws
/// ``CodecError`` for a type it cannot handle. Every codec passes `CodecConformance` from
/// `MicroTesting`.
public protocol Codec: Sendable {
    /// The content type, such as `application/json`.
    var contentType: String { get }

    /// Whether this codec can encode values of `type`; the runtime passes a type over to
    /// the next codec of the same content type when this one declines it.
    ///
    /// Answer from the type alone and cheaply: the server asks once per endpoint, the
    /// client on each call when a content type has more than one codec. A codec that
    /// cannot tell from the type (an existential such as `any Sendable`) answers `true`
    /// and throws ``CodecError`` from ``encode(_:)`` when the value does not fit. The
    /// default is `true`.
    func canEncode(_ type: Any.Type) -> Bool

    /// Whether this codec can decode values of `type`; see ``canEncode(_:)``. The default
    /// is `true`.
    func canDecode(_ type: Any.Type) -> Bool

    /// The registry's description of `type` (an endpoint's request or response), or `nil`
    /// to leave it to the next codec and finally to the runtime's own description (the
    /// type name and, for a `Decodable` type, its fields).
    ///
    /// A codec whose types carry their own schema (generated protobuf messages) describes
    /// them here. The default is `nil`.
    func describe(_ type: Any.Type) -> EndpointValue?

    /// The bytes of `value`.
    func encode<Value>(_ value: Value) throws -> ByteBuffer

    /// A value of `type` read from `buffer`.
    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value
}

extension Codec {
    /// `true`: the codec takes every type and throws ``CodecError`` for one it cannot
    /// encode.
    public func canEncode(_ type: Any.Type) -> Bool { true }

    /// `true`: the codec takes every type and throws ``CodecError`` for one it cannot
    /// decode.
    public func canDecode(_ type: Any.Type) -> Bool { true }

    /// `nil`: the runtime describes the type.
    public func describe(_ type: Any.Type) -> EndpointValue? { nil }
}

/// A value could not be encoded or decoded.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The content type of the codec that failed.
    public var contentType: String
    /// What did not work, in words that say what to fix.
    public var message: String

    /// Creates an error.
    public init(contentType: String, message: String) {
        self.contentType = contentType
        self.message = message
    }

    /// `application/json: …`
    public var description: String { "\(contentType): \(message)" }
}
