/// Checks that bytes are one JSON text as RFC 8259 defines it and records its values
/// as ``JSONToken``s.
///
/// Strict: no trailing commas, comments, byte order mark, leading zeros, bad escapes,
/// unescaped control characters, invalid UTF-8, `\u` escapes of lone surrogates, or
/// anything after the value but whitespace. Nesting is limited to ``maximumDepth``
/// so a hostile document cannot exhaust the stack.
struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 512

    /// The document.
    private let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    private var position = 0
    /// The values read so far.
    private var tokens: [JSONToken] = []

    /// Replaces `tokens` with the tokens of the JSON text in `bytes`, reusing the array's
    /// memory.
    ///
    /// - Throws: `DecodingError.dataCorrupted` saying what is wrong and at which byte
    ///   offset, such as `unexpected character 'n' at offset 1`; `tokens` then holds what
    ///   was read before the error.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, into tokens: inout [JSONToken]) throws {
        var scanner = JSONScanner(bytes: bytes)
        // The scanner appends to the caller's array, moved in and out without a copy.
        swap(&scanner.tokens, &tokens)
        defer { swap(&scanner.tokens, &tokens) }
        scanner.tokens.removeAll(keepingCapacity: true)
        // Offsets and token indices are kept in 32 bits.
        guard bytes.count < Int32.max else {
            throw scanner.corrupted("document of \(bytes.count) bytes is too large")
        }
        // About one value per eight bytes in typical documents; a long string asks
        // for more than it needs, but only in proportion to its length.
        scanner.tokens.reserveCapacity(min(bytes.count / 8 + 4, 4096))
        scanner.skipWhitespace()
        try scanner.scanValue(depth: 0)
        scanner.skipWhitespace()
        guard scanner.position == bytes.count else { throw scanner.unexpected() }
    }

    /// A scanner at the start of `bytes`.
    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Values

    /// Reads the value starting at the current byte, inside `depth` containers.
    private mutating func scanValue(depth: Int) throws {
        guard position < bytes.count else { throw unexpected() }
        switch bytes[position] {
        case UInt8(ascii: "{"): try scanObject(depth: depth + 1)
        case UInt8(ascii: "["): try scanArray(depth: depth + 1)
        case UInt8(ascii: "\""): try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        case UInt8(ascii: "t"): try scanLiteral("true", .true)
        case UInt8(ascii: "f"): try scanLiteral("false", .false)
        case UInt8(ascii: "n"): try scanLiteral("null", .null)
        default: throw unexpected()
        }
    }

    /// Reads `{…}`; the current byte is `{`.
    private mutating func scanObject(depth: Int) throws {
        let index = try openContainer(.object, depth: depth)
        var count: UInt32 = 0
        if !consume(UInt8(ascii: "}")) {
            repeat {
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw unexpected() }
                try scanString()
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { throw unexpected() }
                skipWhitespace()
                try scanValue(depth: depth)
                count += 1
                skipWhitespace()
            } while try continueContainer(closingWith: UInt8(ascii: "}"))
        }
        closeContainer(index, count: count)
    }

    /// Reads `[…]`; the current byte is `[`.
    private mutating func scanArray(depth: Int) throws {
        let index = try openContainer(.array, depth: depth)
        var count: UInt32 = 0
        if !consume(UInt8(ascii: "]")) {
            repeat {
                try scanValue(depth: depth)
                count += 1
                skipWhitespace()
            } while try continueContainer(closingWith: UInt8(ascii: "]"))
        }
        closeContainer(index, count: count)
    }

    /// Records a container's token and steps past its opening bracket and any
    /// whitespace; returns the token's index.
    private mutating func openContainer(_ kind: JSONToken.Kind, depth: Int) throws -> Int {
        guard depth <= JSONScanner.maximumDepth else {
            throw corrupted("nesting deeper than \(JSONScanner.maximumDepth) levels at offset \(position)")
        }
        let index = tokens.count
        tokens.append(JSONToken(kind: kind, offset: UInt32(position), length: 0, next: 0))
        position += 1
        skipWhitespace()
        return index
    }

    /// After an element: `true` past a comma (and whitespace), `false` past the
    /// closing bracket.
    private mutating func continueContainer(closingWith closing: UInt8) throws -> Bool {
        if consume(UInt8(ascii: ",")) {
            skipWhitespace()
            return true
        }
        guard consume(closing) else { throw unexpected() }
        return false
    }

    /// Fills in a container's element count and the index after its last element.
    private mutating func closeContainer(_ index: Int, count: UInt32) {
        tokens[index].length = count
        tokens[index].next = UInt32(tokens.count)
    }

    /// Reads `true`, `false` or `null`.
    private mutating func scanLiteral(_ literal: StaticString, _ kind: JSONToken.Kind) throws {
        let start = position
        for index in 0..<literal.utf8CodeUnitCount {
            guard position < bytes.count, bytes[position] == literal.utf8Start[index] else { throw unexpected() }
            position += 1
        }
        appendScalar(kind, start: start, end: position)
    }

    /// Reads a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func scanNumber() throws {
        let start = position
        var kind = JSONToken.Kind.integer
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            if position < bytes.count, JSONScanner.isDigit(bytes[position]) {
                throw corrupted("number with a leading zero at offset \(start)")
            }
        } else {
            try scanDigits()
        }
        if consume(UInt8(ascii: ".")) {
            kind = .number
            try scanDigits()
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            kind = .number
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            try scanDigits()
        }
        appendScalar(kind, start: start, end: position)
    }

    /// Reads one or more decimal digits.
    private mutating func scanDigits() throws {
        guard position < bytes.count, JSONScanner.isDigit(bytes[position]) else { throw unexpected() }
        repeat {
            position += 1
        } while position < bytes.count && JSONScanner.isDigit(bytes[position])
    }

    /// Reads a string; the current byte is its opening quote.
    private mutating func scanString() throws {
        let quote = position
        position += 1
        var hasEscapes = false
        var isASCII = true
        while true {
            position = JSONStringBytes.firstSpecial(in: bytes, from: position, orNonASCII: true)
            guard position < bytes.count else {
                throw corrupted("unterminated string starting at offset \(quote)")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                break
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if byte < 0x20 {
                throw corrupted("unescaped control character \(JSONScanner.hex(byte)) in string at offset \(position)")
            } else {
                isASCII = false
                try scanMultiByteCharacter()
            }
        }
        appendScalar(hasEscapes ? .escapedString : isASCII ? .asciiString : .string, start: quote + 1, end: position)
        position += 1
    }

    /// Reads an escape sequence; the current byte is its backslash. A `\u` escape of a
    /// high surrogate must be followed by one of a low surrogate; lone surrogates are
    /// rejected, because a Swift `String` cannot hold them.
    private mutating func scanEscape() throws {
        let start = position
        guard position + 1 < bytes.count else { throw corrupted("unterminated string at offset \(bytes.count)") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            let unit = try scanHexEscape()
            if (0xDC00...0xDFFF).contains(unit) {
                throw corrupted("unpaired surrogate escape at offset \(start)")
            }
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                      (0xDC00...0xDFFF).contains(try scanHexEscape())
                else {
                    throw corrupted("unpaired surrogate escape at offset \(start)")
                }
            }
        default:
            throw corrupted("invalid escape at offset \(start)")
        }
    }

    /// Reads `\uXXXX` and returns the code unit; the current byte is the backslash.
    private mutating func scanHexEscape() throws -> UInt16 {
        guard position + 6 <= bytes.count else { throw corrupted("invalid \\u escape at offset \(position)") }
        var unit: UInt16 = 0
        for index in position + 2..<position + 6 {
            guard let digit = JSONScanner.hexValue(bytes[index]) else {
                throw corrupted("invalid \\u escape at offset \(position)")
            }
            unit = unit << 4 | UInt16(digit)
        }
        position += 6
        return unit
    }

    /// Reads one character encoded in two to four bytes, rejecting what RFC 3629 does
    /// not allow: stray continuation bytes, overlong forms, surrogates, values above
    /// U+10FFFF and truncated sequences.
    private mutating func scanMultiByteCharacter() throws {
        let lead = bytes[position]
        let length: Int
        // The second byte's range; later bytes are plain continuation bytes.
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: throw corrupted("invalid UTF-8 at offset \(position)")
        }
        guard position + length <= bytes.count, second.contains(bytes[position + 1]) else {
            throw corrupted("invalid UTF-8 at offset \(position)")
        }
        for index in position + 2..<position + length where bytes[index] & 0xC0 != 0x80 {
            throw corrupted("invalid UTF-8 at offset \(position)")
        }
        position += length
    }

    // MARK: Helpers

    /// Records a scalar from `start` to `end`.
    private mutating func appendScalar(_ kind: JSONToken.Kind, start: Int, end: Int) {
        tokens.append(JSONToken(kind: kind, offset: UInt32(start), length: UInt32(end - start), next: UInt32(tokens.count + 1)))
    }

    /// Steps past `byte` if it is the current byte.
    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Steps past spaces, tabs, line feeds and carriage returns.
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    /// The error for the current byte, or for the end of the input.
    private func unexpected() -> DecodingError {
        guard position < bytes.count else { return corrupted("unexpected end of input at offset \(position)") }
        let byte = bytes[position]
        if byte >= 0x20 && byte < 0x7F {
            return corrupted("unexpected character '\(Character(Unicode.Scalar(byte)))' at offset \(position)")
        }
        return corrupted("unexpected byte \(JSONScanner.hex(byte)) at offset \(position)")
    }

    /// A `dataCorrupted` error at the top level.
    private func corrupted(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: description))
    }

    /// `0x1F`.
    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0" + digits : "0x" + digits
    }

    /// Whether `byte` is `0`…`9`.
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// The value of a hexadecimal digit, or `nil`.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
