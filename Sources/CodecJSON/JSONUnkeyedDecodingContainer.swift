/// The unkeyed container of a JSON array being decoded: a cursor over its elements.
///
/// Three words (the token indices are 32-bit), so returning it as
/// `any UnkeyedDecodingContainer` does not allocate.
struct JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    /// The document.
    let document: JSONDocument
    /// The array's token.
    private let array: UInt32
    /// The token of the element at ``currentIndex``.
    private var cursor: UInt32
    /// The position of the next element to decode.
    private(set) var currentIndex = 0

    /// The container of the array at `array`.
    init(document: JSONDocument, array: Int) {
        self.document = document
        self.array = UInt32(array)
        self.cursor = UInt32(array + 1)
    }

    /// The keys from the top-level value to this array.
    var codingPath: [any CodingKey] { document.codingPath(to: Int(array)) }

    /// The number of elements.
    var count: Int? { document.tokens[Int(array)].count }

    /// Whether every element has been decoded.
    var isAtEnd: Bool { currentIndex >= document.tokens[Int(array)].count }

    /// A decoder for the current element.
    ///
    /// - Throws: `DecodingError.valueNotFound` for `type` when there are no more elements.
    private func current(_ type: Any.Type) throws -> JSONValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [JSONKey.index(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        return JSONValueDecoder(document: document, index: Int(cursor))
    }

    /// Moves to the next element.
    private mutating func advance() {
        cursor = document.tokens[Int(cursor)].next
        currentIndex += 1
    }

    /// Reads the current element with `decode` and moves past it; stays put if that
    /// throws, so the caller can try another type.
    private mutating func next<Value>(_ type: Value.Type, _ decode: (JSONValueDecoder) throws -> Value) throws -> Value {
        let value = try decode(try current(type))
        advance()
        return value
    }

    /// Whether the current element is `null`; moves past it if so.
    mutating func decodeNil() throws -> Bool {
        guard try current(Any?.self).decodeNil() else { return false }
        advance()
        return true
    }

    /// The next element.
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next(type) { try $0.decode(type) } }
    /// The next element.
    mutating func decode<Value: Decodable>(_ type: Value.Type) throws -> Value { try next(type) { try $0.decode(type) } }

    /// The next element, which must be an object.
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(KeyedDecodingContainer<NestedKey>.self) { try $0.container(keyedBy: type) }
    }

    /// The next element, which must be an array.
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { try $0.unkeyedContainer() }
    }

    /// A decoder for the next element.
    mutating func superDecoder() throws -> any Decoder {
        try next(JSONValueDecoder.self) { $0 }
    }
}
