/// Compact UTF-8 JSON text, appended piece by piece to a byte array.
///
/// The writer knows JSON's lexical rules (string escapes, number text) but not its
/// structure: ``JSONEncodingState`` decides where commas and brackets go.
struct JSONWriter {
    /// The text written so far.
    private(set) var bytes: [UInt8] = []

    /// The number of bytes written so far.
    var count: Int { bytes.count }

    /// An empty writer with room for `capacity` bytes.
    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends one ASCII byte, such as `,` or `:`.
    mutating func write(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends bytes as they are.
    mutating func write(_ raw: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends a copy of bytes already written.
    mutating func writeCopy(of range: Range<Int>) {
        let piece = Array(bytes[range])
        bytes.append(contentsOf: piece)
    }

    /// Appends `null`.
    mutating func writeNull() {
        writeASCII("null")
    }

    /// Appends `true` or `false`.
    mutating func writeBool(_ value: Bool) {
        writeASCII(value ? "true" : "false")
    }

    /// Appends text that needs no escaping, such as a number's `description`.
    mutating func writeASCII(_ text: String) {
        var text = text
        text.withUTF8 { write($0) }
    }

    /// Appends `value` in decimal, without going through `String`.
    mutating func writeInteger<Integer: FixedWidthInteger>(_ value: Integer) {
        // 39 digits hold UInt128.max; one more for the sign.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
            var magnitude = value.magnitude
            var position = digits.count
            repeat {
                let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: 10)
                position -= 1
                digits[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                magnitude = quotient
            } while magnitude != 0
            if value < 0 {
                position -= 1
                digits[position] = UInt8(ascii: "-")
            }
            write(UnsafeBufferPointer(rebasing: digits[position...]))
        }
    }

    /// Appends a finite `value` as the shortest text that reads back as the same value,
    /// dropping a trailing `.0` as Foundation does (`3.0` is written `3`).
    ///
    /// Swift's `description` is already valid JSON for finite values (`1e-07`,
    /// `1.5e+300`, `-0.0`); the caller rejects infinities and NaN.
    mutating func writeFloatingPoint<Number: BinaryFloatingPoint & CustomStringConvertible>(_ value: Number) {
        var text = value.description
        text.withUTF8 { utf8 in
            let hasPointZero = utf8.count > 2 && utf8[utf8.count - 2] == UInt8(ascii: ".") && utf8[utf8.count - 1] == UInt8(ascii: "0")
            write(hasPointZero ? UnsafeBufferPointer(rebasing: utf8.dropLast(2)) : utf8)
        }
    }

    /// Appends `string` in quotes, escaped per RFC 8259: `"`, `\` and the control
    /// characters U+0000 to U+001F, with the short forms (`\n`, `\t`, …) where JSON has
    /// them. `/` and non-ASCII characters are written as they are.
    mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { writeString(utf8: $0) }
    }

    /// Appends UTF-8 text in quotes, escaped as ``writeString(_:)`` describes.
    mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.reserveCapacity(bytes.count + utf8.count + 2)
        write(UInt8(ascii: "\""))
        // Copy runs of bytes that need no escape in one go; escape the rest one by one.
        var runStart = 0
        var index = 0
        while index < utf8.count {
            if index + 8 <= utf8.count,
               !JSONWriter.needsEscape(UnsafeRawPointer(utf8.baseAddress! + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
                continue
            }
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                write(UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                writeEscape(for: byte)
                runStart = index + 1
            }
            index += 1
        }
        write(UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        write(UInt8(ascii: "\""))
    }

    /// Appends the escape sequence for `"`, `\` or a control character.
    private mutating func writeEscape(for byte: UInt8) {
        write(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): write(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): write(UInt8(ascii: "\\"))
        case UInt8(ascii: "\n"): write(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): write(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): write(UInt8(ascii: "t"))
        case 0x08: write(UInt8(ascii: "b"))
        case 0x0C: write(UInt8(ascii: "f"))
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            writeASCII("u00")
            write(hexDigits.utf8Start[Int(byte >> 4)])
            write(hexDigits.utf8Start[Int(byte & 0xF)])
        }
    }

    /// Whether any of the eight bytes in `word` is `"`, `\` or below 0x20.
    ///
    /// The usual SWAR tests, one per byte lane: `(x - 0x01) & ~x & 0x80` is non-zero in a
    /// lane where `x` is zero (so `"` and `\` are found by XOR-ing them away first), and
    /// `(x - 0x20) & ~x & 0x80` in a lane below 0x20. A lane can also light up after a
    /// borrow from a lane that already matched, which only sends the caller to its
    /// byte-by-byte check a little early.
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let quoteLanes = (quotes &- ones) & ~quotes
        let backslashLanes = (backslashes &- ones) & ~backslashes
        let controlLanes = (word &- ones &* 0x20) & ~word
        return (quoteLanes | backslashLanes | controlLanes) & highBits != 0
    }
}
