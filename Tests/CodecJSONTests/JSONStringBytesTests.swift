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

    @Test func ordinaryBytesAreNotSpecial() {
        let ordinary = (UInt8(0x20)...0x7F).filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        #expect(firstSpecial(ordinary, orNonASCII: true) == ordinary.count)
        let high = [UInt8](0x80...0xFF)
        #expect(firstSpecial(high, orNonASCII: false) == high.count)
    }
}
