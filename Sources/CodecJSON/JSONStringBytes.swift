/// Finds the bytes inside JSON strings that need attention, sixteen at a time.
///
/// Both the writer (which must escape `"`, `\` and control characters) and the scanner
/// (which must also check every non-ASCII byte for valid UTF-8) spend most of their time
/// on long runs of plain text; comparing sixteen bytes per step with `SIMD16` skips
/// those runs at a fraction of the per-byte cost, and long runs are tested 64 bytes at a
/// time.
enum JSONStringBytes {
    /// The index of the first byte of `bytes` at or after `start` that is `"`, `\` or
    /// below 0x20 (or, with `orNonASCII`, at least 0x80), or `bytes.count` if none is.
    static func firstSpecial(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, orNonASCII: Bool) -> Int {
        var index = start
        if bytes.count - index >= 16 {
            let base = UnsafeRawPointer(bytes.baseAddress!)
            // Four chunks per step and one test of their combined masks: a long plain run
            // costs a few instructions per sixteen bytes.
            while index + 64 <= bytes.count {
                let first = special(base.loadUnaligned(fromByteOffset: index, as: SIMD16<Int8>.self), orNonASCII)
                let second = special(base.loadUnaligned(fromByteOffset: index + 16, as: SIMD16<Int8>.self), orNonASCII)
                let third = special(base.loadUnaligned(fromByteOffset: index + 32, as: SIMD16<Int8>.self), orNonASCII)
                let fourth = special(base.loadUnaligned(fromByteOffset: index + 48, as: SIMD16<Int8>.self), orNonASCII)
                if isAnySet((first .| second) .| (third .| fourth)) { break }
                index += 64
            }
            while index + 16 <= bytes.count {
                let lane = firstSetLane(special(base.loadUnaligned(fromByteOffset: index, as: SIMD16<Int8>.self), orNonASCII))
                if lane < 16 { return index + lane }
                index += 16
            }
        }
        // The last few bytes, padded with spaces, which are never special.
        var tail = SIMD16<Int8>(repeating: Int8(UInt8(ascii: " ")))
        withUnsafeMutableBytes(of: &tail) { tail in
            tail.copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[index...])))
        }
        return index + min(firstSetLane(special(tail, orNonASCII)), bytes.count - index)
    }

    /// The lanes of `chunk` that are special as ``firstSpecial(in:from:orNonASCII:)``
    /// defines it.
    ///
    /// The bytes are compared as signed: then a byte is below 0x20 or at least 0x80
    /// exactly when it is less than 0x20, one comparison; flipping the top bit first
    /// leaves only the bytes below 0x20 less than -96. Typed vector operands and plain
    /// `.|`: other spellings (a scalar operand, `.|=`) can compile to a loop over the lanes.
    @inline(__always)
    private static func special(_ chunk: SIMD16<Int8>, _ orNonASCII: Bool) -> SIMDMask<SIMD16<Int8>> {
        let quotes = SIMD16<Int8>(repeating: Int8(UInt8(ascii: "\"")))
        let backslashes = SIMD16<Int8>(repeating: Int8(UInt8(ascii: "\\")))
        let low: SIMDMask<SIMD16<Int8>>
        if orNonASCII {
            low = chunk .< SIMD16<Int8>(repeating: 0x20)
        } else {
            low = (chunk ^ SIMD16<Int8>(repeating: -128)) .< SIMD16<Int8>(repeating: -96)
        }
        return (chunk .== quotes) .| (chunk .== backslashes) .| low
    }

    /// Whether any lane of `mask` is set.
    @inline(__always)
    private static func isAnySet(_ mask: SIMDMask<SIMD16<Int8>>) -> Bool {
        // Each lane of the mask is all ones or all zeros; reading it as two words is much
        // cheaper than `any(_:)`.
        let words = unsafeBitCast(mask, to: SIMD2<UInt64>.self)
        return words[0] | words[1] != 0
    }

    /// The first set lane of `mask`, or 16.
    @inline(__always)
    private static func firstSetLane(_ mask: SIMDMask<SIMD16<Int8>>) -> Int {
        let words = unsafeBitCast(mask, to: SIMD2<UInt64>.self)
        if words[0] != 0 { return UInt64(littleEndian: words[0]).trailingZeroBitCount / 8 }
        if words[1] != 0 { return 8 + UInt64(littleEndian: words[1]).trailingZeroBitCount / 8 }
        return 16
    }
}
