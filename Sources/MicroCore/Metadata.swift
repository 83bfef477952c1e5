/// String pairs that travel with a message: transport headers, call metadata, broker
/// headers.
///
/// Names compare case-insensitively (ASCII), as go-micro's HTTP transport canonicalises
/// them: `metadata["micro-id"]` finds `Micro-Id`. Order of insertion is kept. Setting a
/// value replaces every earlier value of that name; setting `nil` removes it.
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One name–value pair.
    public struct Field: Sendable, Hashable {
        /// The name as it was set.
        public var name: String
        /// The value.
        public var value: String

        /// Creates a field.
        @inlinable
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The pairs in insertion order; the RPC server reads a request's headers in place,
    /// by index, instead of copying each pair.
    @usableFromInline
    package var fields: [Field]

    /// Creates empty metadata.
    public init() {
        fields = []
    }

    /// Creates empty metadata with room for `capacity` pairs, so that appending that many
    /// allocates once (headers are built a field at a time on every call).
    public init(capacity: Int) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    /// Creates metadata from a dictionary.
    public init(_ dictionary: [String: String]) {
        fields = dictionary.sorted { $0.key < $1.key }.map { Field(name: $0.key, value: $0.value) }
    }

    /// Creates metadata from a literal; a repeated name keeps its last value.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = []
        fields.reserveCapacity(elements.count)
        for (name, value) in elements { self[name] = value }
    }

    /// The value of `name`, compared case-insensitively; setting replaces, `nil` removes.
    public subscript(name: String) -> String? {
        get {
            // By index: iterating copies each field, retaining and releasing both strings.
            for index in fields.indices where Metadata.equalNames(fields[index].name, name) { return fields[index].value }
            return nil
        }
        set {
            guard let index = fields.firstIndex(where: { Metadata.equalNames($0.name, name) }) else {
                if let newValue { fields.append(Field(name: name, value: newValue)) }
                return
            }
            if let newValue {
                fields[index].value = newValue
                if index + 1 < fields.count {
                    fields.removeSubrange(fields.index(after: index)..., where: { Metadata.equalNames($0.name, name) })
                }
            } else {
                fields.removeAll { Metadata.equalNames($0.name, name) }
            }
        }
    }

    /// Appends a pair without looking for an existing one (fast path for building headers).
    ///
    /// The strings are taken, not copied: a caller passing strings it no longer uses
    /// saves a retain and a release of each.
    @inlinable
    public mutating func append(_ name: consuming String, _ value: consuming String) {
        fields.append(Field(name: name, value: value))
    }

    /// Sets every pair of `other` here, replacing values of the same names.
    public mutating func merge(_ other: Metadata) {
        for field in other.fields { self[field.name] = field.value }
    }

    /// The number of pairs.
    public var count: Int { fields.count }

    /// Whether there are no pairs.
    public var isEmpty: Bool { fields.isEmpty }

    /// The pairs as a dictionary (the last value wins for duplicate names).
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for field in fields { result[field.name] = field.value }
        return result
    }

    /// Iterates the pairs in insertion order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// `[name: value, …]`
    public var description: String {
        "[" + fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }

    /// Equal when both hold the same names (ignoring case) with the same values, in any
    /// order.
    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.count == rhs.count && lhs.fields.allSatisfy { rhs[$0.name] == $0.value }
    }

    /// Hashes the lower-cased names and values, independent of order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields.map { $0.name.lowercased() + "\u{0}" + $0.value }.sorted())
    }

    /// Whether two header names are equal, ignoring ASCII case.
    public static func equalNames(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (lhs.utf8, rhs.utf8)
        // O(1) for native strings, and most names differ in length.
        guard a.count == b.count else { return false }
        let fast = a.withContiguousStorageIfAvailable { a in
            b.withContiguousStorageIfAvailable { b in equalIgnoringASCIICase(a, b) }
        }
        if let fast, let result = fast { return result }
        return equalIgnoringASCIICase(Array(a)[...], Array(b)[...])
    }

    @inline(__always)
    private static func equalIgnoringASCIICase<C: Collection<UInt8>>(_ a: C, _ b: C) -> Bool where C.Index == Int {
        var i = a.startIndex
        var j = b.startIndex
        while i < a.endIndex {
            let (x, y) = (a[i], b[j])
            if x != y {
                let lower = x | 0x20
                guard lower == y | 0x20, lower >= 0x61, lower <= 0x7A else { return false }
            }
            i += 1
            j += 1
        }
        return true
    }
}

extension Metadata: Codable {
    /// Decodes a JSON object of strings; `null` gives empty metadata.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self.init()
        } else {
            self.init(try container.decode([String: String].self))
        }
    }

    /// Encodes a JSON object of strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(dictionary)
    }
}

extension RangeReplaceableCollection {
    fileprivate mutating func removeSubrange(_ range: PartialRangeFrom<Index>, where predicate: (Element) -> Bool) {
        let tail = self[range].filter { !predicate($0) }
        replaceSubrange(range, with: tail)
    }
}
