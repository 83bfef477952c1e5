/// The keyed container of a JSON object being encoded: writes `"key":value` members
/// in the order they are encoded.
///
/// A key encoded twice is written twice (Foundation's encoder keeps only the later
/// value); decoders that let the last of repeated keys win, as this codec's and Go's
/// do, read the later value.
struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    /// The JSON being built.
    let state: JSONEncodingState
    /// The object's node.
    let node: Int

    /// The keys from the top-level value to this object.
    var codingPath: [any CodingKey] { state.codingPath(of: node) }

    /// Writes a member with a scalar value.
    private func append(_ key: Key, _ write: (inout JSONWriter) -> Void) {
        state.appendScalar(to: node, key: key.stringValue, write)
    }

    /// Writes `"key":null`.
    mutating func encodeNil(forKey key: Key) throws { append(key) { $0.writeNull() } }
    /// Writes a `true` or `false` member.
    mutating func encode(_ value: Bool, forKey key: Key) throws { append(key) { $0.writeBool(value) } }
    /// Writes a string member.
    mutating func encode(_ value: String, forKey key: Key) throws { append(key) { $0.writeString(value) } }

    /// Writes a number member.
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath + [key])
        append(key) { $0.writeFloatingPoint(value) }
    }

    /// Writes a number member.
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath + [key])
        append(key) { $0.writeFloatingPoint(value) }
    }

    /// Writes an integer member.
    mutating func encode(_ value: Int, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: Int8, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: Int16, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: Int32, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: Int64, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: Int128, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt8, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt16, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt32, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt64, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }
    /// Writes an integer member.
    mutating func encode(_ value: UInt128, forKey key: Key) throws { append(key) { $0.writeInteger(value) } }

    /// Writes a member whose value encodes itself.
    mutating func encode<Value: Encodable>(_ value: Value, forKey key: Key) throws {
        let name = key.stringValue
        if state.appendCommonScalar(value, to: node, key: name) { return }
        try state.encodeChild(value, to: node, key: key, keyText: name)
    }

    /// Writes a member that is an object, and returns its container.
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = state.appendChild(to: node, key: key, keyText: key.stringValue)
        return JSONValueEncoder(state: state, node: child).container(keyedBy: NestedKey.self)
    }

    /// Writes a member that is an array, and returns its container.
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = state.appendChild(to: node, key: key, keyText: key.stringValue)
        return JSONValueEncoder(state: state, node: child).unkeyedContainer()
    }

    /// An encoder for the member `"super"`; `{}` if nothing is encoded into it.
    mutating func superEncoder() -> any Encoder {
        let child = state.appendChild(to: node, key: JSONKey.superKey, keyText: JSONKey.superKey.stringValue)
        return JSONValueEncoder(state: state, node: child)
    }

    /// An encoder for the member `key`; `{}` if nothing is encoded into it.
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = state.appendChild(to: node, key: key, keyText: key.stringValue)
        return JSONValueEncoder(state: state, node: child)
    }
}
