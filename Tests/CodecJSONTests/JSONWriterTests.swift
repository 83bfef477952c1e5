@testable import CodecJSON
import Foundation
import Testing

@Suite struct JSONWriterTests {
    func written(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter(capacity: 16)
        write(&writer)
        return writer.withText { String(decoding: $0, as: UTF8.self) }
    }

    @Test func escapesQuotesBackslashesAndControlCharactersOnly() {
        #expect(written { $0.writeString(#"a"b\c"#) } == #""a\"b\\c""#)
        #expect(written { $0.writeString("\n\r\t\u{8}\u{C}") } == #""\n\r\t\b\f""#)
        #expect(written { $0.writeString("\u{0}\u{1}\u{1F}") } == #""\u0000\u0001\u001f""#)
        #expect(written { $0.writeString("a/b é 😀 \u{7F}") } == "\"a/b é 😀 \u{7F}\"")
        #expect(written { $0.writeString("") } == #""""#)
    }

    @Test func everyControlCharacterHasAnEscape() throws {
        for byte in UInt8(0)..<0x20 {
            let text = written { $0.writeString(String(UnicodeScalar(byte))) }
            #expect(text.utf8.allSatisfy { $0 >= 0x20 }, "byte \(byte) written raw")
            #expect(try JSONDecoder().decode(String.self, from: Data(text.utf8)) == String(UnicodeScalar(byte)))
        }
    }

    @Test func escapesAtEveryPositionOfTheSixteenByteScan() {
        for length in 0..<40 {
            for position in 0..<max(length, 1) {
                var characters = Array(repeating: Character("x"), count: length)
                if position < length { characters[position] = "\"" }
                let string = String(characters)
                let expected = "\"" + string.replacingOccurrences(of: "\"", with: "\\\"") + "\""
                #expect(written { $0.writeString(string) } == expected)
            }
        }
    }

    @Test func integersAreExact() {
        #expect(written { $0.writeInteger(0) } == "0")
        #expect(written { $0.writeInteger(-7) } == "-7")
        #expect(written { $0.writeInteger(Int64.min) } == "\(Int64.min)")
        #expect(written { $0.writeInteger(Int64.max) } == "\(Int64.max)")
        #expect(written { $0.writeInteger(UInt64.max) } == "\(UInt64.max)")
        #expect(written { $0.writeInteger(Int8.min) } == "-128")
        #expect(written { $0.writeInteger(Int128.min) } == "\(Int128.min)")
        #expect(written { $0.writeInteger(UInt128.max) } == "\(UInt128.max)")
    }

    @Test func floatingPointIsShortestAndValidJSON() throws {
        #expect(written { $0.writeFloatingPoint(3.0) } == "3")
        #expect(written { $0.writeFloatingPoint(-0.0) } == "-0")
        #expect(written { $0.writeFloatingPoint(0.1) } == "0.1")
        #expect(written { $0.writeFloatingPoint(1e-7) } == "1e-07")
        #expect(written { $0.writeFloatingPoint(1e300) } == "1e+300")
        #expect(written { $0.writeFloatingPoint(Float(0.1)) } == "0.1")
        for value in Floats().doubles {
            let text = written { $0.writeFloatingPoint(value) }
            _ = try Array(text.utf8).withUnsafeBufferPointer { try JSONScanner.scan($0) }
            #expect(Double(text) == value, "\(value) written as \(text)")
        }
        for value in Floats().floats {
            let text = written { $0.writeFloatingPoint(value) }
            #expect(Float(text) == value, "\(value) written as \(text)")
        }
    }
}
