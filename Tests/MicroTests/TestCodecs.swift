import CodecJSON
import MicroCore
import NIOCore

/// A value no JSON codec takes: not `Codable`.
struct Tagged: Sendable, Equatable {
    var name: String
}

/// `application/json` for ``Tagged`` only, declining every other type: writes
/// `{"tagged":"<name>","by":"<mark>"}`, so a test sees which codec wrote a body.
struct TaggedJSONCodec: Codec {
    let contentType = "application/json"
    var mark = "tagged"

    func canEncode(_ type: Any.Type) -> Bool { type == Tagged.self }
    func canDecode(_ type: Any.Type) -> Bool { type == Tagged.self }

    func describe(_ type: Any.Type) -> EndpointValue? {
        type == Tagged.self ? EndpointValue(name: "Tagged", type: "tagged.v1", values: [EndpointValue(name: "tagged", type: "string")]) : nil
    }

    func encode<Value>(_ value: Value) throws -> ByteBuffer {
        guard let tagged = value as? Tagged else { throw CodecError(contentType: contentType, message: "\(Value.self) is not Tagged") }
        return ByteBuffer(string: #"{"tagged":"\#(tagged.name)","by":"\#(mark)"}"#)
    }

    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        guard Value.self == Tagged.self else { throw CodecError(contentType: contentType, message: "\(Value.self) is not Tagged") }
        let wire = try JSONCodec().decode(TaggedWire.self, from: buffer)
        return Tagged(name: wire.tagged) as! Value
    }
}

/// What ``TaggedJSONCodec`` reads.
private struct TaggedWire: Decodable {
    var tagged: String
}

/// `text/plain` for `String` only: its UTF-8 bytes.
struct TextCodec: Codec {
    let contentType = "text/plain"

    func canEncode(_ type: Any.Type) -> Bool { type == String.self }
    func canDecode(_ type: Any.Type) -> Bool { type == String.self }

    func encode<Value>(_ value: Value) throws -> ByteBuffer {
        guard let text = value as? String else { throw CodecError(contentType: contentType, message: "\(Value.self) is not String") }
        return ByteBuffer(string: text)
    }

    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        guard Value.self == String.self else { throw CodecError(contentType: contentType, message: "\(Value.self) is not String") }
        return String(buffer: buffer) as! Value
    }
}
