/// Finds the bytes inside JSON strings that need attention, sixteen at a time.
///
/// Both the writer (which must escape `"`, `\` and control characters) and the scanner
/// (which must also check every non-ASCII byte for valid UTF-8) spend most of their time
/// on long runs of plain text; comparing sixteen bytes per step with `SIMD16` skips
/// those runs at a fraction of the per-byte cost.
enum JSONStringBytes {
    /// The index of the first byte of `bytes` at or after `start` that is `"`, `\` or
    /// below 0x20 (or, with `orNonASCII`, at least 0x80), or `bytes.count` if none is.
    static func firstSpecial(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, orNonASCII: Bool) -> Int {
        var index = start
        while index + 16 <= bytes.count {
            let chunk = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: SIMD16<UInt8>.self)
            let lane = firstSpecialLane(of: chunk, orNonASCII: orNonASCII)
            if lane < 16 { return index + lane }
            index += 16
        }
        // The last few bytes, padded with spaces, which are never special.
        var tail = SIMD16<UInt8>(repeating: UInt8(ascii: " "))
        withUnsafeMutableBytes(of: &tail) { tail in
            tail.copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[index...])))
        }
        return index + min(firstSpecialLane(of: tail, orNonASCII: orNonASCII), bytes.count - index)
    }

    /// The first lane of `chunk` that is special as ``firstSpecial(in:from:orNonASCII:)``
    /// defines it, or 16.
    private static func firstSpecialLane(of chunk: SIMD16<UInt8>, orNonASCII: Bool) -> Int {
        // Typed vector operands and plain `.|`: other spellings (a scalar operand, `.|=`)
        // can compile to a loop over the lanes.
        let quotes = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let backslashes = SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        let spaces = SIMD16<UInt8>(repeating: 0x20)
        let nonASCII = SIMD16<UInt8>(repeating: 0x80)
        var special = (chunk .== quotes) .| (chunk .== backslashes) .| (chunk .< spaces)
        if orNonASCII { special = special .| (chunk .>= nonASCII) }
        // Each lane of the mask is all ones or all zeros; reading it as two words (lane 0
        // in the low byte of the first) is much cheaper than `any(_:)`.
        let words = unsafeBitCast(special, to: SIMD2<UInt64>.self)
        if words[0] != 0 { return UInt64(littleEndian: words[0]).trailingZeroBitCount / 8 }
        if words[1] != 0 { return 8 + UInt64(littleEndian: words[1]).trailingZeroBitCount / 8 }
        return 16
    }
}
