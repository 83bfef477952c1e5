/// Converts the text of a JSON number, already checked by ``JSONScanner``, to Swift
/// numbers.
enum JSONNumber {
    /// `text` as an `Integer`, or `nil` when it is not a whole number or does not fit.
    ///
    /// `1.0`, `1e2` and `-0` are whole numbers, as Foundation reads them; the conversion is
    /// exact, never through `Double`.
    static func integer<Integer: FixedWidthInteger>(_ type: Integer.Type, from text: UnsafeBufferPointer<UInt8>, isPlainInteger: Bool) -> Integer? {
        let isNegative = text[0] == UInt8(ascii: "-")
        var index = isNegative ? 1 : 0
        var magnitude: Integer.Magnitude = 0
        if isPlainInteger {
            while index < text.count {
                guard append(digit: text[index] &- UInt8(ascii: "0"), to: &magnitude) else { return nil }
                index += 1
            }
        } else {
            // digits × 10^scale, where trailing zeros of the digits only raise the scale.
            var pendingZeros = 0
            var scale = 0
            var inFraction = false
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: ".") {
                    inFraction = true
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    scale += exponent(text[(index + 1)...])
                    break
                } else {
                    if inFraction { scale -= 1 }
                    let digit = byte &- UInt8(ascii: "0")
                    if digit == 0 {
                        pendingZeros += 1
                    } else {
                        for _ in 0..<pendingZeros {
                            guard append(digit: 0, to: &magnitude) else { return nil }
                        }
                        pendingZeros = 0
                        guard append(digit: digit, to: &magnitude) else { return nil }
                    }
                }
                index += 1
            }
            scale += pendingZeros
            if magnitude == 0 { return 0 }
            // A non-zero last digit below the units: a fraction.
            if scale < 0 { return nil }
            for _ in 0..<scale {
                guard append(digit: 0, to: &magnitude) else { return nil }
            }
        }
        return integer(Integer.self, isNegative: isNegative, magnitude: magnitude)
    }

    /// `magnitude × 10 + digit`, or `false` when that overflows.
    private static func append<Magnitude: FixedWidthInteger>(digit: UInt8, to magnitude: inout Magnitude) -> Bool {
        let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, carry) = times10.addingReportingOverflow(Magnitude(digit))
        magnitude = sum
        return !overflow && !carry
    }

    /// `±magnitude` as an `Integer`, or `nil` when it does not fit.
    private static func integer<Integer: FixedWidthInteger>(_ type: Integer.Type, isNegative: Bool, magnitude: Integer.Magnitude) -> Integer? {
        guard isNegative, magnitude != 0 else { return Integer(exactly: magnitude) }
        guard Integer.isSigned, magnitude <= Integer.Magnitude(Integer.max) + 1 else { return nil }
        // Two's complement negation; also right for Integer.min, whose magnitude does not
        // fit in Integer.
        return Integer(truncatingIfNeeded: 0 &- magnitude)
    }

    /// The exponent after `e`, with its sign; saturated, as anything that large is out of
    /// range of every type anyway.
    private static func exponent(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> Int {
        var index = text.startIndex
        let isNegative = text[index] == UInt8(ascii: "-")
        if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") { index += 1 }
        var value = 0
        while index < text.endIndex {
            value = min(value * 10 + Int(text[index] &- UInt8(ascii: "0")), 1_000_000_000)
            index += 1
        }
        return isNegative ? -value : value
    }

    /// `text` as the nearest `Double`, or `nil` when its magnitude is too large for one.
    static func double(from text: UnsafeBufferPointer<UInt8>) -> Double? {
        let parts = DecimalParts(text)
        // Clinger's fast path: both the digits and the power of ten are exact doubles, so
        // one multiplication or division rounds correctly.
        if parts.isExact, parts.digits <= 1 << 53, (-22...22).contains(parts.exponent) {
            let digits = Double(parts.digits)
            let power = powersOfTen[abs(parts.exponent)]
            let value = parts.exponent < 0 ? digits / power : digits * power
            return parts.isNegative ? -value : value
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    /// `text` as the nearest `Float`, or `nil` when its magnitude is too large for one.
    static func float(from text: UnsafeBufferPointer<UInt8>) -> Float? {
        let parts = DecimalParts(text)
        if parts.isExact, parts.digits <= 1 << 24, (-10...10).contains(parts.exponent) {
            let digits = Float(parts.digits)
            let power = Float(powersOfTen[abs(parts.exponent)])
            let value = parts.exponent < 0 ? digits / power : digits * power
            return parts.isNegative ? -value : value
        }
        guard let value = Float(String(decoding: text, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    /// 10⁰ to 10²², every power of ten a `Double` holds exactly.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// A number's text as `±digits × 10^exponent`, when the digits fit in a `UInt64`.
    private struct DecimalParts {
        /// Whether the number starts with `-`.
        var isNegative = false
        /// The significant digits, as an integer.
        var digits: UInt64 = 0
        /// The power of ten to multiply ``digits`` by.
        var exponent = 0
        /// Whether ``digits`` holds every significant digit (at most 19 of them).
        var isExact = true

        /// The parts of `text`.
        init(_ text: UnsafeBufferPointer<UInt8>) {
            var index = 0
            var significantDigits = 0
            var inFraction = false
            if text[0] == UInt8(ascii: "-") {
                isNegative = true
                index = 1
            }
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: ".") {
                    inFraction = true
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    exponent += JSONNumber.exponent(text[(index + 1)...])
                    break
                } else {
                    let digit = byte &- UInt8(ascii: "0")
                    if inFraction { exponent -= 1 }
                    if digits != 0 || digit != 0 {
                        significantDigits += 1
                        if significantDigits > 19 {
                            isExact = false
                        } else {
                            digits = digits * 10 + UInt64(digit)
                        }
                    }
                }
                index += 1
            }
        }
    }
}
