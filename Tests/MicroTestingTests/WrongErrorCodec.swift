import CodecJSON
import MicroCore
import NIOCore

/// Wrong on purpose: a JSON codec that declines the types JSON declines, but throws an
/// error of its own instead of a `CodecError` when asked to encode or decode one.
struct WrongErrorCodec: Codec {
    struct Refused: Error {}

    let base = JSONCodec()

    var contentType: String { base.contentType }

    func canEncode(_ type: Any.Type) -> Bool { base.canEncode(type) }

    func canDecode(_ type: Any.Type) -> Bool { base.canDecode(type) }

    func encode<Value>(_ value: Value) throws -> ByteBuffer {
        guard canEncode(Value.self) else { throw Refused() }
        return try base.encode(value)
    }

    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        guard canDecode(Value.self) else { throw Refused() }
        return try base.decode(type, from: buffer)
    }
}
