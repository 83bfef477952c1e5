import CodecJSON
import MicroCore
import NIOCore

/// Wrong on purpose: a JSON codec that decodes an empty buffer into a value it makes up
/// (the JSON `fallback`) instead of throwing.
struct MadeUpValueCodec: Codec {
    let base = JSONCodec()
    let fallback: String

    var contentType: String { base.contentType }

    func encode<Value>(_ value: Value) throws -> ByteBuffer { try base.encode(value) }

    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        try base.decode(type, from: buffer.readableBytes == 0 ? ByteBuffer(string: fallback) : buffer)
    }
}
