/// The keyed container of a JSON object being decoded.
///
/// Keys are found by ``JSONDocument/member(of:named:)``: compared as bytes in small
/// objects, through a name index in large ones. When a name is repeated the last member
/// wins.
struct JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// The document.
    let document: JSONDocument
    /// The object's token.
    let object: Int

    /// The keys from the top-level value to this object.
    var codingPath: [any CodingKey] { document.codingPath(to: object) }

    /// The object's member names that `Key` accepts, in document order, each once.
    var allKeys: [Key] {
        document.keys(of: object).compactMap { key in
            let name = document.string(at: key)
            // Of repeated names, keep the member that wins.
            guard valueIndex(named: name) == key + 1 else { return nil }
            return Key(stringValue: name)
        }
    }

    /// The value token of the member named `name`.
    private func valueIndex(named name: String) -> Int? {
        document.member(of: object, named: name)
    }

    /// A decoder for the value of `key`, if the object has it.
    private func decoderIfPresent(_ key: Key) -> JSONValueDecoder? {
        valueIndex(named: key.stringValue).map { JSONValueDecoder(document: document, index: $0) }
    }

    /// A decoder for the value of `key`.
    ///
    /// - Throws: `DecodingError.keyNotFound` when the object has no such member.
    private func decoder(_ key: Key) throws -> JSONValueDecoder {
        guard let decoder = decoderIfPresent(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return decoder
    }

    /// The value of `key` read by `decode`, or `nil` when the key is absent or `null`.
    private func valueIfPresent<Value>(_ key: Key, _ decode: (JSONValueDecoder) throws -> Value) rethrows -> Value? {
        guard let decoder = decoderIfPresent(key), !decoder.decodeNil() else { return nil }
        return try decode(decoder)
    }

    /// Whether the object has a member named `key`.
    func contains(_ key: Key) -> Bool { valueIndex(named: key.stringValue) != nil }

    /// Whether the value of `key` is `null`.
    func decodeNil(forKey key: Key) throws -> Bool { try decoder(key).decodeNil() }
    /// The value of `key`.
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try decoder(key).decode(type) }
    /// The value of `key`.
    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value { try decoder(key).decode(type) }

    // One lookup each, where the default implementations make three.

    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? { try valueIfPresent(key) { try $0.decode(type) } }
    /// The value of `key`, or `nil` when absent or `null`.
    func decodeIfPresent<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value? { try valueIfPresent(key) { try $0.decode(type) } }

    /// The object that is the value of `key`.
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    /// The array that is the value of `key`.
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(key).unkeyedContainer()
    }

    /// A decoder for the member `"super"`, or for `null` when there is none.
    func superDecoder() throws -> any Decoder {
        if let index = valueIndex(named: JSONKey.superKey.stringValue) {
            return JSONValueDecoder(document: document, index: index)
        }
        return JSONValueDecoder(document: document, absentAt: codingPath + [JSONKey.superKey])
    }

    /// A decoder for the member `key`, or for `null` when there is none.
    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoderIfPresent(key) ?? JSONValueDecoder(document: document, absentAt: codingPath + [key])
    }
}
