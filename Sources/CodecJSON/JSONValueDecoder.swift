#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The `Decoder` handed to a `Decodable` type: one value of a ``JSONDocument``. It is
/// also the value's single-value container.
///
/// Three words, so passing it as `any Decoder` does not allocate, and its coding path
/// is only worked out when asked for (usually for an error message).
struct JSONValueDecoder: Decoder, SingleValueDecodingContainer {
    /// The document.
    let document: JSONDocument
    /// The value's token, or -1 for an absent value read as `null` (the decoder
    /// `superDecoder()` returns when there is no `super` key, as Foundation does).
    let index: Int
    /// The coding path of an absent value, which the document cannot rebuild.
    let absentPath: [any CodingKey]?

    /// A decoder for the value at `index`.
    init(document: JSONDocument, index: Int) {
        self.document = document
        self.index = index
        self.absentPath = nil
    }

    /// A decoder for an absent value at `codingPath`, which reads as `null`.
    init(document: JSONDocument, absentAt codingPath: [any CodingKey]) {
        self.document = document
        self.index = -1
        self.absentPath = codingPath
    }

    /// The `Value` in the JSON text in `buffer`'s readable bytes.
    ///
    /// - Throws: `DecodingError`: `dataCorrupted` when the bytes are not JSON (saying
    ///   where), otherwise whatever `Value` meets that does not fit it.
    static func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        try JSONDocument.read(buffer) { document in
            try JSONValueDecoder(document: document, index: 0).decode(Value.self)
        }
    }

    /// The keys from the top-level value to this one.
    var codingPath: [any CodingKey] { absentPath ?? document.codingPath(to: index) }

    /// Always empty: the codec has no options.
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The value's token kind; `null` for an absent value.
    var kind: JSONToken.Kind { index < 0 ? .null : document.tokens[index].kind }

    /// The members of this object.
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard kind == .object else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(document: document, object: index))
    }

    /// The elements of this array.
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard kind == .array else { throw mismatch([Any].self) }
        return JSONUnkeyedDecodingContainer(document: document, array: index)
    }

    /// This decoder, which reads one value.
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// Whether the value is `null`.
    func decodeNil() -> Bool { kind == .null }

    /// `true` or `false`; numbers and strings are not booleans.
    func decode(_ type: Bool.Type) throws -> Bool {
        switch kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self)
        }
    }

    /// A string, escapes resolved.
    func decode(_ type: String.Type) throws -> String {
        guard kind.isString else { throw mismatch(String.self) }
        return document.string(at: index)
    }

    /// The nearest `Double`.
    func decode(_ type: Double.Type) throws -> Double { try number(Double.self, JSONNumber.double(from:)) }
    /// The nearest `Float`.
    func decode(_ type: Float.Type) throws -> Float { try number(Float.self, JSONNumber.float(from:)) }
    /// A whole number that fits.
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    /// A whole number that fits.
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    /// A whole number that fits.
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    /// A whole number that fits.
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    /// A whole number that fits.
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    /// A whole number that fits.
    func decode(_ type: Int128.Type) throws -> Int128 { try integer(Int128.self) }
    /// A whole number that fits.
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    /// A whole number that fits.
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    /// A whole number that fits.
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    /// A whole number that fits.
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    /// A whole number that fits.
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    /// A whole number that fits.
    func decode(_ type: UInt128.Type) throws -> UInt128 { try integer(UInt128.self) }

    /// A value of any `Decodable` type. `Data`, `URL` and `Decimal` are read as
    /// Foundation's default strategies write them (base64 string, string, number);
    /// other types decode themselves from this decoder.
    func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        // The common types arrays and dictionaries hold, without a trip through their
        // `init(from:)`. The metatype comparison makes the `unsafeBitCast` exact.
        if Value.self == String.self { return unsafeBitCast(try decode(String.self), to: Value.self) }
        if Value.self == Int.self { return unsafeBitCast(try decode(Int.self), to: Value.self) }
        if Value.self == Double.self { return unsafeBitCast(try decode(Double.self), to: Value.self) }
        if Value.self == Bool.self { return unsafeBitCast(try decode(Bool.self), to: Value.self) }
        if Value.self == Data.self {
            guard let data = Data(base64Encoded: try decode(String.self)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Encountered Data is not valid Base64."))
            }
            return data as! Value
        }
        if Value.self == URL.self {
            guard let url = URL(string: try decode(String.self)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Invalid URL string."))
            }
            return url as! Value
        }
        if Value.self == Decimal.self {
            let decimal = try number(Decimal.self) { Decimal(string: String(decoding: $0, as: UTF8.self)) }
            return decimal as! Value
        }
        return try Value(from: self)
    }

    /// The number read by `convert`, which returns `nil` when the number does not fit.
    private func number<Number>(_ type: Number.Type, _ convert: (UnsafeBufferPointer<UInt8>) -> Number?) throws -> Number {
        guard kind == .integer || kind == .number else { throw mismatch(Number.self) }
        let token = document.tokens[index]
        guard let value = document.withBytes(of: token, convert) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(document.text(of: token)) is not representable as \(Number.self)."))
        }
        return value
    }

    /// A whole number that fits in `Integer`.
    private func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        let isPlainInteger = kind == .integer
        return try number(Integer.self) { JSONNumber.integer(Integer.self, from: $0, isPlainInteger: isPlainInteger) }
    }

    /// The error for a value that is not a `type`: `valueNotFound` for `null`, as
    /// Foundation throws, otherwise `typeMismatch`.
    func mismatch(_ type: Any.Type) -> DecodingError {
        let found: String
        switch kind {
        case .null:
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Expected \(type) value but found null instead."))
        case .true, .false: found = "a boolean"
        case .integer, .number: found = "a number"
        case .asciiString, .string, .escapedString: found = "a string"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }
}
