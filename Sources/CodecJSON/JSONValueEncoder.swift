import NIOCore

/// The `Encoder` handed to an `Encodable` value: a node of a ``JSONEncodingState``.
/// It is also the value's single-value container.
///
/// Two words, so passing it as `any Encoder` does not allocate.
struct JSONValueEncoder: Encoder, SingleValueEncodingContainer {
    /// The JSON being built.
    let state: JSONEncodingState
    /// The node this encoder writes.
    let node: Int

    /// Compact JSON for `value`: keys in encoding order, no whitespace.
    ///
    /// - Throws: `EncodingError.invalidValue` for a non-finite number, a value that encodes
    ///   nothing at the top level, or a misuse of the `Encoder` API.
    static func encode<Value: Encodable>(_ value: Value) throws -> ByteBuffer {
        var state = JSONEncodingState.make()
        defer { JSONEncodingState.recycle(&state) }
        try state.encode(value, into: JSONEncodingState.root)
        if state.nodes[JSONEncodingState.root].kind == .pending {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Top-level \(Value.self) did not encode any values."))
        }
        return try state.makeBuffer()
    }

    /// Throws Foundation's error for an infinite or NaN number, which JSON cannot hold.
    static func checkFinite<Number: BinaryFloatingPoint>(_ value: Number, at codingPath: @autoclosure () -> [any CodingKey]) throws {
        guard !value.isFinite else { return }
        let name = value.isNaN ? "\(Number.self).nan" : value < 0 ? "-\(Number.self).infinity" : "\(Number.self).infinity"
        throw EncodingError.invalidValue(value, .init(codingPath: codingPath(), debugDescription: "Unable to encode \(name) directly in JSON."))
    }

    /// The keys from the top-level value to this one.
    var codingPath: [any CodingKey] { state.codingPath(of: node) }

    /// Always empty: the codec has no options.
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Makes this value a JSON object.
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        state.makeContainer(node, kind: .object)
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(state: state, node: node))
    }

    /// Makes this value a JSON array.
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        state.makeContainer(node, kind: .array)
        return JSONUnkeyedEncodingContainer(state: state, node: node)
    }

    /// This encoder, which writes one scalar or nested value.
    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    /// Writes `null`.
    mutating func encodeNil() throws { state.setScalar(node) { $0.writeNull() } }
    /// Writes `true` or `false`.
    mutating func encode(_ value: Bool) throws { state.setScalar(node) { $0.writeBool(value) } }
    /// Writes a quoted, escaped string.
    mutating func encode(_ value: String) throws { state.setScalar(node) { $0.writeString(value) } }

    /// Writes the shortest text that reads back as `value`.
    mutating func encode(_ value: Double) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath)
        state.setScalar(node) { $0.writeFloatingPoint(value) }
    }

    /// Writes the shortest text that reads back as `value`.
    mutating func encode(_ value: Float) throws {
        try JSONValueEncoder.checkFinite(value, at: codingPath)
        state.setScalar(node) { $0.writeFloatingPoint(value) }
    }

    /// Writes an integer.
    mutating func encode(_ value: Int) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int8) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int16) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int32) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int64) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: Int128) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt8) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt16) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt32) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt64) throws { state.setScalar(node) { $0.writeInteger(value) } }
    /// Writes an integer.
    mutating func encode(_ value: UInt128) throws { state.setScalar(node) { $0.writeInteger(value) } }

    /// Writes `value` in place of this one (a wrapper encoding what it wraps).
    mutating func encode<Value: Encodable>(_ value: Value) throws {
        try state.encode(value, into: node)
    }
}
