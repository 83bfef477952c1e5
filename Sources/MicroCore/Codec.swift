public import NIOCore

/// Turns values into bytes and back for one content type.
///
/// The runtime picks a codec by the `Content-Type` of each message. A codec decides which
/// Swift types it can handle (CodecJSON takes `Codable`, CodecProto takes protobuf
/// messages) and throws ``CodecError`` for others. Every codec passes `CodecConformance`
/// from `MicroTesting`.
public protocol Codec: Sendable {
    /// The content type, such as `application/json`.
    var contentType: String { get }

    /// The bytes of `value`.
    func encode<Value>(_ value: Value) throws -> ByteBuffer

    /// A value of `type` read from `buffer`.
    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value
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
