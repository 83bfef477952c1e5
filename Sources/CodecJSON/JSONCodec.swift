public import MicroCore
public import NIOCore

/// `Codable` values ⇄ `application/json`.
///
/// A `ByteBuffer` passes through both ways untouched (raw bodies, proxies). Other values
/// must be `Encodable` to encode and `Decodable` to decode; anything else, and any JSON
/// that does not fit the type, throws a ``MicroCore/CodecError`` whose message names the
/// type and the coding path (`HelloRequest: key 'name' not found`).
///
/// The codec has its own JSON encoder and decoder, which work on `ByteBuffer` bytes
/// directly and follow Foundation's `JSONEncoder` and `JSONDecoder` with their default
/// options: compact output, `Data` as base64, `Date` as seconds since 2001, `URL` as a
/// string, `Decimal` as a number, `3.0` written `3`, non-finite numbers rejected. Where
/// they differ: keys are written in encoding order and `/` is not escaped; the decoder
/// is strict RFC 8259 (no trailing commas or byte order mark), nests at most 512 levels,
/// lets the last of repeated keys win, and reads numbers too small for a `Double` as 0.
public struct JSONCodec: Codec {
    /// `application/json`.
    public var contentType: String { "application/json" }

    /// Creates a codec. It has no options and no state, so one can be shared freely.
    public init() {}

    /// Whether `type` is `Encodable` or `ByteBuffer`; `true` also for an existential
    /// (such as `any Sendable`), whose values ``encode(_:)`` encodes when they are
    /// `Encodable` and rejects with a ``MicroCore/CodecError`` when not.
    public func canEncode(_ type: Any.Type) -> Bool {
        type == ByteBuffer.self || type is any Encodable.Type || JSONCodec.isExistential(type)
    }

    /// Whether `type` is `Decodable` or `ByteBuffer`.
    public func canDecode(_ type: Any.Type) -> Bool {
        type == ByteBuffer.self || type is any Decodable.Type
    }

    /// Whether `type` is an existential type (`any P`, `Any`), whose values may be of any
    /// type conforming to it. Read from the kind in the type's runtime metadata, which the
    /// Swift ABI fixes: 0x303 for an existential, 0x307 for an extended existential
    /// (`any P<T>`); there is no public API that tells from the type alone.
    static func isExistential(_ type: Any.Type) -> Bool {
        let kind = unsafeBitCast(type, to: UnsafePointer<UInt>.self).pointee
        return kind == 0x303 || kind == 0x307
    }

    /// The JSON bytes of `value`, or `value` itself when it is a `ByteBuffer`.
    ///
    /// - Throws: ``MicroCore/CodecError`` when `Value` is not `Encodable` or fails to
    ///   encode.
    public func encode<Value>(_ value: Value) throws -> ByteBuffer {
        // A type comparison, not a dynamic cast: `as? ByteBuffer` costs a runtime cast on
        // every call, for every type.
        if Value.self == ByteBuffer.self { return unsafeBitCast(value, to: ByteBuffer.self) }
        do {
            if let type = JSONCodableTypes.encodable(Value.self) {
                return try JSONCodec.encode(value, as: type)
            }
            if let encodable = value as? any Encodable {
                // An existential (`any Sendable`) holding an Encodable value.
                return try JSONValueEncoder.encode(encodable)
            }
        } catch let error as EncodingError {
            throw CodecError(contentType: contentType, message: JSONCodec.describe(error, type: Value.self))
        } catch {
            throw CodecError(contentType: contentType, message: "\(Value.self) did not encode: \(error)")
        }
        // A ByteBuffer inside an existential still passes through.
        if let buffer = value as? ByteBuffer { return buffer }
        throw CodecError(contentType: contentType, message: "\(Value.self) is not Encodable; make it Codable or send a ByteBuffer")
    }

    /// A `Value` read from the JSON in `buffer`, or the buffer itself when `Value` is
    /// `ByteBuffer`.
    ///
    /// - Throws: ``MicroCore/CodecError`` when `Value` is not `Decodable` or the JSON does
    ///   not fit it, naming the type and the coding path.
    public func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        if Value.self == ByteBuffer.self { return unsafeBitCast(buffer, to: Value.self) }
        guard let decodable = JSONCodableTypes.decodable(Value.self) else {
            throw CodecError(contentType: contentType, message: "\(Value.self) is not Decodable; make it Codable or receive a ByteBuffer")
        }
        do {
            return try JSONCodec.decode(decodable, as: Value.self, from: buffer)
        } catch let error as DecodingError {
            throw CodecError(contentType: contentType, message: JSONCodec.describe(error, type: Value.self))
        } catch let error as CodecError {
            throw error
        } catch {
            throw CodecError(contentType: contentType, message: "\(Value.self): not valid JSON (\(error))")
        }
    }

    /// The JSON of `value`, which is the `Encoded` it is given as: `Encoded` is `Value`
    /// opened as `Encodable`, so comparing the types replaces a dynamic cast.
    private static func encode<Value, Encoded: Encodable>(_ value: Value, as type: Encoded.Type) throws -> ByteBuffer {
        try JSONValueEncoder.encode(Encoded.self == Value.self ? unsafeBitCast(value, to: Encoded.self) : value as! Encoded)
    }

    /// A `Decoded` read from `buffer`, returned as the `Value` it is: `Decoded` is
    /// `Value` opened as `Decodable`, so comparing the types replaces a dynamic cast.
    private static func decode<Decoded: Decodable, Value>(_ decoded: Decoded.Type, as type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        let value = try JSONValueDecoder.decode(Decoded.self, from: buffer)
        if Decoded.self == Value.self { return unsafeBitCast(value, to: Value.self) }
        return try cast(value, to: Value.self)
    }

    /// `value` as a `Value` by a dynamic cast. Kept out of `decode`, which would
    /// otherwise look up the metadata of `Value?` on every call for a cast it never makes.
    @inline(never)
    private static func cast<Decoded, Value>(_ value: Decoded, to type: Value.Type) throws -> Value {
        guard let value = value as? Value else {
            throw CodecError(contentType: "application/json", message: "\(Value.self): decoded a \(Decoded.self) instead")
        }
        return value
    }

    /// `a.b[2].c`
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                if !text.isEmpty { text += "." }
                text += key.stringValue
            }
        }
        return text
    }

    /// What did not decode, in words: `HelloRequest: expected String at 'name'`.
    static func describe<Value>(_ error: DecodingError, type: Value.Type) -> String {
        let name = "\(Value.self)"
        switch error {
        case .keyNotFound(let key, let context):
            let container = path(context.codingPath)
            return "\(name): key '\(key.stringValue)' not found" + (container.isEmpty ? "" : " in '\(container)'")
        case .typeMismatch(let expected, let context):
            let at = path(context.codingPath)
            return "\(name): expected \(expected) at '\(at.isEmpty ? "top level" : at)'"
        case .valueNotFound(let expected, let context):
            let at = path(context.codingPath)
            return "\(name): expected \(expected) at '\(at.isEmpty ? "top level" : at)' but found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "\(name): not valid JSON (\(context.debugDescription))"
            }
            return "\(name): invalid value at '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(name): did not decode: \(error)"
        }
    }

    /// What did not encode, in words.
    static func describe<Value>(_ error: EncodingError, type: Value.Type) -> String {
        switch error {
        case .invalidValue(let value, let context):
            let at = path(context.codingPath)
            return "\(Value.self): cannot encode \(value) at '\(at.isEmpty ? "top level" : at)': \(context.debugDescription)"
        @unknown default:
            return "\(Value.self): did not encode: \(error)"
        }
    }
}
