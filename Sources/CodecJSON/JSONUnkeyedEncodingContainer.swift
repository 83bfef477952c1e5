/// The unkeyed container of a JSON array being encoded.
struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    /// The JSON being built.
    let state: JSONEncodingState
    /// The array's node.
    let node: Int

    /// The keys from the top-level value to this array.
    var codingPath: [any CodingKey] { state.codingPath(of: node) }

    /// The number of elements written so far.
    var count: Int { state.nodes[node].count }

    /// The coding key of the next element.
    private var nextKey: JSONKey { .index(count) }

    /// Writes a scalar element.
    private func append(_ write: (inout JSONWriter) -> Void) {
        state.appendScalar(to: node, key: nil, write)
    }

    /// Writes `null`.
    mutating func encodeNil() throws { append { $0.writeNull() } }
    /// Writes `true` or `false`.
    mutating func encode(_ value: Bool) throws { append { $0.writeBool(value) } }
    /// Writes a string.
    mutating func encode(_ value: String) throws { append { $0.writeString(value) } }

    /// Writes a number.
    mutating func encode(_ value: Double) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath + [nextKey])
        append { $0.writeFloatingPoint(value) }
    }

    /// Writes a number.
    mutating func encode(_ value: Float) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath + [nextKey])
        append { $0.writeFloatingPoint(value) }
    }

    /// Writes an integer.
    mutating func encode(_ value: Int) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int8) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int16) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int32) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int64) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int128) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt8) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt16) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt32) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt64) throws { append { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt128) throws { append { $0.writeInteger(value) } }

    /// Writes an element that encodes itself.
    mutating func encode<Value: Encodable>(_ value: Value) throws {
        if state.appendCommonScalar(value, to: node, key: nil) { return }
        try state.encodeChild(value, to: node, key: nextKey, keyText: nil)
    }

    /// Writes an element that is an object, and returns its container.
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = state.appendChild(to: node, key: nextKey, keyText: nil)
        return JSONValueEncoder(state: state, node: child).container(keyedBy: NestedKey.self)
    }

    /// Writes an element that is an array, and returns its container.
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = state.appendChild(to: node, key: nextKey, keyText: nil)
        return JSONValueEncoder(state: state, node: child).unkeyedContainer()
    }

    /// An encoder for the next element; `{}` if nothing is encoded into it.
    mutating func superEncoder() -> any Encoder {
        let child = state.appendChild(to: node, key: nextKey, keyText: nil)
        return JSONValueEncoder(state: state, node: child)
    }
}
