import NIOCore

/// Compact UTF-8 JSON text, appended piece by piece to a `ByteBuffer`.
///
/// The writer knows JSON's lexical rules (string escapes, number text) but not its
/// structure: ``JSONEncodingState`` decides where commas and brackets go. Positions are
/// byte offsets in the buffer; ``take()`` hands the buffer over, so text that is already
/// in its final order leaves without a copy.
///
/// Appending is the hot path of encoding, and a `ByteBuffer` write checks for sharing and
/// capacity every time, so the writer writes through a pointer to the buffer's memory
/// instead and keeps the count itself. The pointer stays valid because the writer is the
/// buffer's only owner (it is noncopyable and never hands out the buffer but by
/// ``take()``) and the memory moves only when ``grow(toAtLeast:)`` reallocates it, which
/// fetches the pointer again.
struct JSONWriter: ~Copyable {
    /// The text's storage; its writer index is brought up to date by ``take()``.
    private var buffer: ByteBuffer
    /// The buffer's memory.
    private var storage: UnsafeMutablePointer<UInt8>
    /// The buffer's capacity.
    private var capacity: Int
    /// The number of bytes written so far: where the next write goes.
    private(set) var count = 0

    /// An empty writer with room for `capacity` bytes.
    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: max(capacity, 16))
        (storage, self.capacity) = JSONWriter.memory(of: &buffer)
    }

    /// The start and size of `buffer`'s memory.
    private static func memory(of buffer: inout ByteBuffer) -> (UnsafeMutablePointer<UInt8>, Int) {
        buffer.withVeryUnsafeMutableBytes { bytes in
            (bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
    }

    /// Calls `body` with the text written so far.
    func withText<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: storage, count: count))
    }

    /// Whether the writer still holds a buffer: not handed over by ``take()`` yet.
    var hasBuffer: Bool { capacity > 0 }

    /// Hands over the text; the writer is left empty, and must not be used again.
    mutating func take() -> ByteBuffer {
        buffer.moveWriterIndex(to: count)
        let text = buffer
        // The caller becomes the only owner, so changing the text does not copy it.
        buffer = ByteBuffer()
        count = 0
        capacity = 0
        return text
    }

    /// Makes room for `extra` more bytes.
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(toAtLeast: count + extra) }
    }

    /// Gives the buffer room for at least `minimum` bytes, doubling at least.
    private mutating func grow(toAtLeast minimum: Int) {
        buffer.moveWriterIndex(to: count)
        buffer.reserveCapacity(max(capacity * 2, minimum))
        (storage, capacity) = JSONWriter.memory(of: &buffer)
    }

    /// Replaces the byte at `position`, which must have been written.
    mutating func set(_ byte: UInt8, at position: Int) {
        precondition(position < count, "JSONWriter.set past the written text")
        storage[position] = byte
    }

    /// Appends one ASCII byte, such as `,` or `:`.
    mutating func write(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    /// Appends bytes as they are.
    mutating func write(_ raw: UnsafeBufferPointer<UInt8>) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        (storage + count).update(from: source, count: raw.count)
        count += raw.count
    }

    /// Appends a copy of bytes already written.
    mutating func writeCopy(of range: Range<Int>) {
        reserve(range.count)
        (storage + count).update(from: storage + range.lowerBound, count: range.count)
        count += range.count
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
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { write($0) }
        if written == nil {
            var text = text
            text.withUTF8 { write($0) }
        }
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
        let written: Void? = string.utf8.withContiguousStorageIfAvailable { writeString(utf8: $0) }
        if written == nil {
            var string = string
            string.withUTF8 { writeString(utf8: $0) }
        }
    }

    /// Appends UTF-8 text in quotes, escaped as ``writeString(_:)`` describes.
    mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
        reserve(utf8.count + 2)
        write(UInt8(ascii: "\""))
        // Copy runs of bytes that need no escape in one go; escape the rest one by one.
        var index = 0
        while true {
            let special = JSONStringBytes.firstSpecial(in: utf8, from: index, orNonASCII: false)
            write(UnsafeBufferPointer(rebasing: utf8[index..<special]))
            guard special < utf8.count else { break }
            writeEscape(for: utf8[special])
            index = special + 1
        }
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
}
