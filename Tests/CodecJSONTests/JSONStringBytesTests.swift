@testable import CodecJSON
import Testing

@Suite struct JSONStringBytesTests {
    func firstSpecial(_ bytes: [UInt8], from start: Int = 0, orNonASCII: Bool) -> Int {
        bytes.withUnsafeBufferPointer { JSONStringBytes.firstSpecial(in: $0, from: start, orNonASCII: orNonASCII) }
    }

    @Test func findsTheFirstSpecialByteAtEveryPosition() {
        for length in 0...40 {
            let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            #expect(firstSpecial(plain, orNonASCII: true) == length)
            for position in 0..<length {
                for special: UInt8 in [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x00, 0x1F] {
                    var bytes = plain
                    bytes[position] = special
                    if position + 1 < length { bytes[length - 1] = UInt8(ascii: "\"") }
                    #expect(firstSpecial(bytes, orNonASCII: false) == position, "\(special) at \(position) of \(length)")
                }
                var nonASCII = plain
                nonASCII[position] = 0xC3
                #expect(firstSpecial(nonASCII, orNonASCII: true) == position)
                #expect(firstSpecial(nonASCII, orNonASCII: false) == length)
                #expect(firstSpecial(nonASCII, from: position + 1, orNonASCII: true) == length)
            }
        }
    }

    /// What ``JSONStringBytes/firstSpecial(in:from:orNonASCII:)`` must find, a byte at a time.
    func reference(_ bytes: [UInt8], from start: Int, orNonASCII: Bool) -> Int {
        bytes[start...].firstIndex { byte in
            byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || (orNonASCII && byte >= 0x80)
        } ?? bytes.count
    }

    @Test func everyByteValueInLongRuns() {
        // Past the 64-byte steps and the 16-byte steps, into the padded tail.
        var mismatches: [String] = []
        for length in [63, 64, 65, 143] {
            let plain = [UInt8](repeating: UInt8(ascii: "x"), count: length)
            for position in 0..<length {
                for value in UInt8.min...UInt8.max {
                    var bytes = plain
                    bytes[position] = value
                    for orNonASCII in [false, true] {
                        for start in [0, 17] where start <= position {
                            let found = firstSpecial(bytes, from: start, orNonASCII: orNonASCII)
                            let expected = reference(bytes, from: start, orNonASCII: orNonASCII)
                            if found != expected {
                                mismatches.append("byte \(value) at \(position) of \(length) from \(start), orNonASCII \(orNonASCII): \(found), not \(expected)")
                            }
                        }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func ordinaryBytesAreNotSpecial() {
        let ordinary = (UInt8(0x20)...0x7F).filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        #expect(firstSpecial(ordinary, orNonASCII: true) == ordinary.count)
        let high = [UInt8](0x80...0xFF)
        #expect(firstSpecial(high, orNonASCII: false) == high.count)
    }
}
