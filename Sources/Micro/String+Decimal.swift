extension String {
    /// `value` in decimal, as `String(value)` spells it.
    ///
    /// Every call writes two numbers into its headers (the call id and the timeout);
    /// this writes the digits on the stack and makes the string from them, a few times
    /// cheaper than the standard library's generic conversion. Numbers of up to 15 digits
    /// (a timeout of up to 11 days) make a small string, without an allocation.
    init(decimal value: UInt64) {
        // 20 digits hold UInt64.max.
        self = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = value
            var start = digits.count
            repeat {
                let (quotient, remainder) = remaining.quotientAndRemainder(dividingBy: 10)
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                remaining = quotient
            } while remaining != 0
            return String(decoding: UnsafeBufferPointer(rebasing: digits[start...]), as: UTF8.self)
        }
    }
}
