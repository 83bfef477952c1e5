@testable import CodecJSON
import NIOCore

// Shortcuts to our encoder and decoder for the tests.

/// Our encoder's output as text.
func ourJSON<Value: Encodable>(_ value: Value) throws -> String {
    String(buffer: try JSONValueEncoder.encode(value))
}

/// `json` decoded by our decoder.
func ourDecode<Value: Decodable>(_ type: Value.Type, _ json: String) throws -> Value {
    try JSONValueDecoder.decode(type, from: ByteBuffer(string: json))
}

/// `bytes` decoded by our decoder.
func ourDecode<Value: Decodable>(_ type: Value.Type, bytes: [UInt8]) throws -> Value {
    try JSONValueDecoder.decode(type, from: ByteBuffer(bytes: bytes))
}

/// The error our decoder throws for `json`, or `nil` when it decodes.
func decodingError<Value: Decodable>(_ type: Value.Type, _ json: String) -> DecodingError? {
    do {
        _ = try ourDecode(type, json)
        return nil
    } catch let error as DecodingError {
        return error
    } catch {
        return nil
    }
}

/// The debug description of a `dataCorrupted` error, or a note of what else it was.
func corruptedDescription(_ error: DecodingError?) -> String {
    guard let error else { return "no error" }
    guard case .dataCorrupted(let context) = error else { return "not dataCorrupted: \(error)" }
    return context.debugDescription
}

/// The coding path of a decoding error as `a.b[1]`.
func pathText(_ error: DecodingError?) -> String? {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
        return JSONCodec.path(context.codingPath)
    default:
        return nil
    }
}

extension JSONScanner {
    /// The tokens of the JSON text in `bytes`, in a new array.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [JSONToken] {
        var tokens: [JSONToken] = []
        try scan(bytes, into: &tokens)
        return tokens
    }
}

/// A small `Codable` value with a string and an array, for round trips.
struct Pair: Codable, Equatable {
    var name: String
    var values: [Int]
}
