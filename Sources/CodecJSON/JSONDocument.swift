import NIOCore

/// A JSON document being decoded: the bytes, checked and scanned once into a flat
/// array of ``JSONToken``s that the decoders and containers index into.
///
/// The bytes stay in the caller's `ByteBuffer`; strings and numbers are read from them
/// only when a `Decodable` type asks, and object keys are compared as bytes, so keys
/// nobody asks for never become `String`s (except in objects large enough to be
/// indexed by name).
final class JSONDocument {
    /// The document's bytes, valid while ``read(_:_:)`` runs and emptied when it returns,
    /// so a decoder kept past that traps instead of reading memory it does not own.
    /// Unchecked exclusivity: it is only ever read, except by ``read(_:_:)`` at the end.
    @exclusivity(unchecked) private var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// Every value of the document, the top-level one first. Unchecked exclusivity: set
    /// by ``read(_:_:)`` only, before any decoder sees the document.
    @exclusivity(unchecked) private(set) var tokens: [JSONToken] = []

    private init() {}

    /// Each thread's document between `read` calls, kept for its token array.
    private static let spare = ThreadLocalSpare<JSONDocument>()

    /// Token count above which a document is not kept for reuse, so that one large
    /// document does not leave its tokens behind in every thread that decoded it.
    private static let reusableCapacity = 1024

    /// Scans the readable bytes of `buffer` and calls `body` with the document, which
    /// must not be used after `body` returns.
    ///
    /// The document is the calling thread's spare one when there is one: reusing it
    /// saves allocating the document and its tokens, and their release.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the bytes are not one JSON text, and
    ///   what `body` throws.
    static func read<Result>(_ buffer: ByteBuffer, _ body: (JSONDocument) throws -> Result) throws -> Result {
        try buffer.withUnsafeReadableBytes { bytes in
            var document = spare.take() ?? JSONDocument()
            defer { recycle(&document) }
            document.bytes = bytes.assumingMemoryBound(to: UInt8.self)
            try JSONScanner.scan(document.bytes, into: &document.tokens)
            return try body(document)
        }
    }

    /// Forgets `document`'s bytes, so a decoder kept past its `read` traps instead of
    /// reading memory it does not own, and keeps the document as the thread's spare,
    /// unless something still refers to it (such a decoder) or it grew large.
    private static func recycle(_ document: inout JSONDocument) {
        document.bytes = UnsafeBufferPointer(start: nil, count: 0)
        guard isKnownUniquelyReferenced(&document), document.tokens.capacity <= reusableCapacity else { return }
        document.tokens.removeAll(keepingCapacity: true)
        if !document.indexes.isEmpty { document.indexes = [:] }
        document.places = nil
        spare.put(document)
    }

    /// Calls `body` with the bytes of the scalar `token` (a string's without quotes).
    func withBytes<Result>(of token: JSONToken, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        precondition(token.end <= bytes.count, "A JSON decoder was used after decoding finished")
        return try body(UnsafeBufferPointer(rebasing: bytes[token.start..<token.end]))
    }

    /// The text of the scalar `token`, as it is in the document.
    func text(of token: JSONToken) -> String {
        withBytes(of: token) { String(decoding: $0, as: UTF8.self) }
    }

    /// The string at `index`, which must be a string token.
    ///
    /// The scanner has validated the UTF-8 of every string and noted which are ASCII, so a
    /// string without escapes is copied into a `String` without being validated again.
    func string(at index: Int) -> String {
        let token = tokens[index]
        return withBytes(of: token) { bytes in
            switch token.kind {
            case .asciiString, .string:
                unsafe String(copying: UTF8Span(unchecked: bytes.span, isKnownASCII: token.kind == .asciiString))
            default:
                JSONDocument.unescape(bytes)
            }
        }
    }

    /// Whether the string token `token` is `name`: compares bytes unless the string has
    /// escapes.
    private func string(_ token: JSONToken, at index: Int, equals name: UnsafeBufferPointer<UInt8>) -> Bool {
        if token.kind == .escapedString { return string(at: index).utf8.elementsEqual(name) }
        guard token.count == name.count else { return false }
        return withBytes(of: token) { bytes in
            for offset in 0..<bytes.count where bytes[offset] != name[offset] { return false }
            return true
        }
    }

    /// Member count above which ``member(of:named:)`` indexes an object by name once
    /// rather than comparing every key on every lookup, so that decoding a large object
    /// (a dictionary, usually) stays linear.
    static var indexThreshold: Int { 16 }

    /// Value token by member name, for each large object looked up so far. Unchecked
    /// exclusivity: accesses are instantaneous and the document is used by one thread.
    @exclusivity(unchecked) private var indexes: [Int: [String: Int]] = [:]

    /// The index of the value of the member named `name` of the object at `object`; the
    /// last such member when the name is repeated.
    func member(of object: Int, named name: String) -> Int? {
        if tokens[object].count > JSONDocument.indexThreshold {
            return index(of: object)[name]
        }
        if let found = name.utf8.withContiguousStorageIfAvailable({ member(of: object, named: $0) }) {
            return found
        }
        return Array(name.utf8).withUnsafeBufferPointer { member(of: object, named: $0) }
    }

    /// ``member(of:named:)`` for a small object: compares the name with every key, as
    /// bytes, keeping the last match.
    private func member(of object: Int, named name: UnsafeBufferPointer<UInt8>) -> Int? {
        tokens.withUnsafeBufferPointer { tokens in
            var found: Int?
            var key = object + 1
            let end = tokens[object].nextIndex
            while key < end {
                if string(tokens[key], at: key, equals: name) { found = key + 1 }
                key = tokens[key + 1].nextIndex
            }
            return found
        }
    }

    /// The value token by member name of the object at `object`, built on first use.
    private func index(of object: Int) -> [String: Int] {
        if let index = indexes[object] { return index }
        var index: [String: Int] = [:]
        index.reserveCapacity(tokens[object].count)
        for key in keys(of: object) {
            // Later members replace earlier ones: the last of repeated names wins.
            index[string(at: key)] = key + 1
        }
        indexes[object] = index
        return index
    }

    /// The indices of the key tokens of the object at `object`, in document order.
    func keys(of object: Int) -> [Int] {
        var keys: [Int] = []
        keys.reserveCapacity(tokens[object].count)
        var key = object + 1
        while key < tokens[object].nextIndex {
            keys.append(key)
            key = tokens[key + 1].nextIndex
        }
        return keys
    }

    /// Where each token sits: its container's token (-1 for the top-level value) and its
    /// position there (for an object, the member's position; keys and values share it).
    private struct Place {
        /// The container's token, or -1.
        var container: Int32
        /// The position in the container.
        var position: Int32
    }

    /// Every token's ``Place``, worked out on the first coding path asked for. Coding
    /// paths are only needed for errors, but a type that tries one decoding after another
    /// (`try?`) meets one error per attempt, so each path after the first costs only the
    /// depth of the value. Unchecked exclusivity: set once, by one thread.
    @exclusivity(unchecked) private var places: [Place]?

    /// The coding path of the value at `index`: object keys as they are in the
    /// document, array positions as indices.
    func codingPath(to index: Int) -> [any CodingKey] {
        let places = self.places ?? makePlaces()
        var path: [any CodingKey] = []
        var current = index
        while current >= 0, current < places.count, places[current].container >= 0 {
            let container = Int(places[current].container)
            if tokens[container].kind == .object {
                path.append(JSONKey.name(string(at: current - 1)))
            } else {
                path.append(JSONKey.index(Int(places[current].position)))
            }
            current = container
        }
        return path.reversed()
    }

    /// Works out ``places`` in one pass: tokens are in document order, so a token's
    /// container is the innermost one still open when it comes.
    private func makePlaces() -> [Place] {
        var places = [Place](repeating: Place(container: -1, position: 0), count: tokens.count)
        // Open containers, and how many tokens each has directly inside it so far.
        var open: [(index: Int, children: Int)] = []
        for index in tokens.indices {
            while let innermost = open.last, tokens[innermost.index].nextIndex <= index {
                open.removeLast()
            }
            if let innermost = open.last {
                let isObject = tokens[innermost.index].kind == .object
                // An object's direct tokens alternate key, value.
                let position = isObject ? innermost.children / 2 : innermost.children
                places[index] = Place(container: Int32(innermost.index), position: Int32(position))
                open[open.count - 1].children += 1
            }
            if tokens[index].kind == .object || tokens[index].kind == .array {
                open.append((index, 0))
            }
        }
        self.places = places
        return places
    }

    /// The text of an escaped string (without quotes) with its escapes resolved. The
    /// scanner has checked every escape, so this does not fail.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Escapes are never shorter than what they stand for.
        String(unsafeUninitializedCapacity: bytes.count) { output in
            var index = 0
            var count = 0
            func write(_ byte: UInt8) {
                output[count] = byte
                count += 1
            }
            func hexUnit(at start: Int) -> UInt32 {
                var unit: UInt32 = 0
                for byte in bytes[start..<start + 4] {
                    let digit = byte <= UInt8(ascii: "9") ? byte &- UInt8(ascii: "0") : (byte | 0x20) &- UInt8(ascii: "a") &+ 10
                    unit = unit << 4 | UInt32(digit)
                }
                return unit
            }
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == UInt8(ascii: "\\") else {
                    write(byte)
                    index += 1
                    continue
                }
                let escape = bytes[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "b"): write(0x08)
                case UInt8(ascii: "f"): write(0x0C)
                case UInt8(ascii: "n"): write(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): write(UInt8(ascii: "\r"))
                case UInt8(ascii: "t"): write(UInt8(ascii: "\t"))
                case UInt8(ascii: "u"):
                    var scalar = hexUnit(at: index)
                    index += 4
                    if (0xD800...0xDBFF).contains(scalar) {
                        // The scanner made sure a low surrogate escape follows.
                        let low = hexUnit(at: index + 2)
                        index += 6
                        scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                    }
                    for byte in UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")! {
                        write(byte)
                    }
                default: write(escape)  // `"`, `\` and `/` stand for themselves.
                }
            }
            return count
        }
    }
}
