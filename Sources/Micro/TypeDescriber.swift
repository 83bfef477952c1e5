import MicroCore

/// Describes a request or response type as go-micro's `registry.Value`: the type name and,
/// for a `Decodable` type, its fields to a depth of three.
///
/// Swift has no reflection over types without an instance, so the fields are found by
/// running the type's own `init(from:)` against a decoder that records every key asked
/// for and answers with placeholder values. A type whose decoding rejects placeholders
/// (an enum with raw values, a validated field) is described up to that field.
enum TypeDescriber {
    /// The description of `type`.
    static func describe<T>(_ type: T.Type) -> EndpointValue {
        let name = goName(T.self)
        var value = EndpointValue(name: name, type: name)
        if let decodable = T.self as? any Decodable.Type, !isScalar(T.self) {
            value.values = fields(of: decodable, depth: 1)
        }
        return value
    }

    static let maxDepth = 3

    /// The fields of a keyed `Decodable` type.
    static func fields(of type: any Decodable.Type, depth: Int) -> [EndpointValue] {
        let recorder = FieldRecorder(depth: depth)
        _ = try? type.init(from: recorder)
        return recorder.fields
    }

    /// Go-like type names for scalars (`string`, `int64`, `[]string`), Swift names else.
    static func goName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: return "string"
        case is Int.Type, is Int64.Type: return "int64"
        case is Int32.Type: return "int32"
        case is Int16.Type: return "int16"
        case is Int8.Type: return "int8"
        case is UInt.Type, is UInt64.Type: return "uint64"
        case is UInt32.Type: return "uint32"
        case is UInt16.Type: return "uint16"
        case is UInt8.Type: return "uint8"
        case is Bool.Type: return "bool"
        case is Double.Type: return "float64"
        case is Float.Type: return "float32"
        default: break
        }
        if let optional = type as? any OptionalDescribable.Type { return goName(optional.wrappedType) }
        if let array = type as? any ArrayDescribable.Type { return "[]" + goName(array.elementType) }
        return String(describing: type)
    }

    static let scalarNames: Set<String> = [
        "string", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "bool", "float64", "float32",
    ]

    /// Whether `type` is a scalar with no fields to describe.
    static func isScalar(_ type: Any.Type) -> Bool {
        scalarNames.contains(goName(type))
    }
}

private protocol OptionalDescribable {
    static var wrappedType: Any.Type { get }
}

extension Optional: OptionalDescribable {
    fileprivate static var wrappedType: Any.Type { Wrapped.self }
}

private protocol ArrayDescribable {
    static var elementType: Any.Type { get }
}

extension Array: ArrayDescribable {
    fileprivate static var elementType: Any.Type { Element.self }
}

/// Records the keys a type's `init(from:)` asks for.
private final class FieldRecorder: Decoder {
    let depth: Int
    var fields: [EndpointValue] = []
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(depth: Int) {
        self.depth = depth
    }

    func record<T>(_ key: any CodingKey, _ type: T.Type) {
        var field = EndpointValue(name: key.stringValue, type: TypeDescriber.goName(type))
        if depth < TypeDescriber.maxDepth, let decodable = type as? any Decodable.Type, !TypeDescriber.isScalar(type),
            !(type is any ArrayDescribable.Type)
        {
            field.values = TypeDescriber.fields(of: decodable, depth: depth + 1)
        }
        fields.append(field)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(recorder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        Placeholder(codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        Placeholder(codingPath: codingPath)
    }

    /// Answers every keyed request with a placeholder and records it.
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: FieldRecorder
        var codingPath: [any CodingKey] { recorder.codingPath }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { true }

        func decodeNil(forKey key: Key) throws -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            recorder.record(key, type)
            return try T(from: PlaceholderDecoder(codingPath: codingPath + [key]))
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            recorder.record(key, type)
            return nil
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type, forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            recorder.record(key, [String: String].self)
            return KeyedDecodingContainer(FieldRecorder.Keyed<NestedKey>(recorder: FieldRecorder(depth: TypeDescriber.maxDepth)))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            recorder.record(key, [String].self)
            return Placeholder(codingPath: codingPath + [key])
        }

        func superDecoder() throws -> any Decoder { recorder }

        func superDecoder(forKey key: Key) throws -> any Decoder { recorder }
    }
}

/// Decodes a placeholder value of any type: empty strings, zeros, `false`, empty
/// collections, and structs of such.
private struct PlaceholderDecoder: Decoder {
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(FieldRecorder.Keyed<Key>(recorder: FieldRecorder(depth: TypeDescriber.maxDepth)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        Placeholder(codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        Placeholder(codingPath: codingPath)
    }
}

/// An empty unkeyed container and a placeholder single value.
private struct Placeholder: UnkeyedDecodingContainer, SingleValueDecodingContainer {
    var codingPath: [any CodingKey]
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    func decodeNil() -> Bool { false }

    func decode(_ type: Bool.Type) throws -> Bool { false }
    func decode(_ type: String.Type) throws -> String { "" }
    func decode(_ type: Double.Type) throws -> Double { 0 }
    func decode(_ type: Float.Type) throws -> Float { 0 }
    func decode(_ type: Int.Type) throws -> Int { 0 }
    func decode(_ type: Int8.Type) throws -> Int8 { 0 }
    func decode(_ type: Int16.Type) throws -> Int16 { 0 }
    func decode(_ type: Int32.Type) throws -> Int32 { 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { 0 }
    func decode(_ type: UInt.Type) throws -> UInt { 0 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { 0 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { 0 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { 0 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { 0 }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: PlaceholderDecoder(codingPath: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try PlaceholderDecoder(codingPath: codingPath).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { self }

    mutating func superDecoder() throws -> any Decoder { PlaceholderDecoder(codingPath: codingPath) }
}
