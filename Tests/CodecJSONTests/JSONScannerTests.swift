@testable import CodecJSON
import Foundation
import Testing

@Suite struct JSONScannerTests {
    func scan(_ bytes: [UInt8]) throws -> [JSONToken] {
        try bytes.withUnsafeBufferPointer { try JSONScanner.scan($0) }
    }

    func scan(_ text: String) throws -> [JSONToken] {
        try scan(Array(text.utf8))
    }

    /// The `dataCorrupted` description for `bytes`, or a note that they scanned.
    func failure(_ bytes: [UInt8]) -> String {
        do {
            _ = try scan(bytes)
            return "accepted"
        } catch let error as DecodingError {
            guard case .dataCorrupted(let context) = error, context.codingPath.isEmpty else { return "wrong error \(error)" }
            return context.debugDescription
        } catch {
            return "wrong error \(error)"
        }
    }

    func failure(_ text: String) -> String { failure(Array(text.utf8)) }

    static let valid = [
        "0", "-0", "1", "-1", "12.5", "1e5", "1E+5", "1e-5", "-0.0e0", "123456789012345678901234567890",
        "true", "false", "null", #""""#, #""a""#, #""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#,
        "[]", "{}", "[1,2,3]", #"{"a":1}"#, #"{"a":{"b":[null,true,{}]}}"#,
        " \t\n\r[ 1 , { \"a\" : \"b\" } ] \n", "\"é日本😀\"", "\"\u{7F}\"",
        #"{"a":1,"a":2}"#,
    ]

    @Test(arguments: valid) func acceptsValidJSON(_ text: String) throws {
        _ = try scan(text)
    }

    static let invalid: [[UInt8]] = [
        "", " ", "{", "}", "[", "]", "[1,]", #"{"a":1,}"#, "{,}", "[,1]", "[1 2]", "[1,,2]",
        "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "1.e5", "0x10", "1_000",
        "NaN", "Infinity", "-Infinity", "tru", "nul", "True", "NULL", "'a'", "\"abc", "\"abc\\",
        #""\x""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#,
        #""\ud800x""#, #""\ude00\ud83d""#,
        "\"a\u{1}b\"", "\"\t\"", "\"\n\"", "\"\u{0}\"",
        "1 2", "{} {}", "[]]", #"{"a" 1}"#, #"{"a":}"#, "{a:1}", #"{"a":1 "b":2}"#, "{1:2}",
        "/* c */ 1", "1 // c", "\u{A0}1", "\u{FEFF}1", "[1]x", "nulll", "1\u{0}", "truefalse",
    ].map { Array($0.utf8) } + [
        [0x22, 0xFF, 0x22],  // not UTF-8
        [0x22, 0x80, 0x22],  // stray continuation byte
        [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
        [0x22, 0xC1, 0xBF, 0x22],  // overlong
        [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
        [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22],  // overlong
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8 encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xE2, 0x82, 0x22],  // truncated
        [0x22, 0xE2, 0x82],  // truncated at the end
        [0x22, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0xFF, 0x22],  // after an 8-byte run
        [0xFF], [0x00], [0xEF, 0xBB, 0xBF, 0x31],
    ]

    @Test func rejectsInvalidJSON() {
        for bytes in JSONScannerTests.invalid {
            let text = String(decoding: bytes, as: UTF8.self).debugDescription
            let result = failure(bytes)
            #expect(result != "accepted", "accepted \(text)")
            #expect(!result.hasPrefix("wrong error"), "\(text): \(result)")
            #expect(result.contains("offset") || result.contains("too large"), "\(text): \(result)")
        }
    }

    @Test func errorsSayWhatAndWhere() {
        #expect(failure("{not json") == "unexpected character 'n' at offset 1")
        #expect(failure("") == "unexpected end of input at offset 0")
        #expect(failure("[1,]") == "unexpected character ']' at offset 3")
        #expect(failure("[1] x") == "unexpected character 'x' at offset 4")
        #expect(failure("{\"a\":1") == "unexpected end of input at offset 6")
        #expect(failure("012") == "number with a leading zero at offset 0")
        #expect(failure(#"["\q"]"#) == "invalid escape at offset 2")
        #expect(failure(#"["\ud800"]"#) == "unpaired surrogate escape at offset 2")
        #expect(failure("[\"a\u{1}\"]") == "unescaped control character 0x01 in string at offset 3")
        #expect(failure([0x5B, 0x22, 0xFF, 0x22, 0x5D]) == "invalid UTF-8 at offset 2")
        #expect(failure([0xFF]) == "unexpected byte 0xFF at offset 0")
        #expect(failure("\"abc") == "unterminated string starting at offset 0")
    }

    @Test func nestingIsLimited() throws {
        let limit = JSONScanner.maximumDepth
        _ = try scan(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        _ = try scan(String(repeating: #"{"a":"#, count: limit) + "1" + String(repeating: "}", count: limit))
        #expect(failure(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)) == "nesting deeper than 512 levels at offset 512")
        #expect(failure(String(repeating: "[", count: 1_000_000)).hasPrefix("nesting deeper than 512 levels"))
        #expect(failure(String(repeating: #"{"a":"#, count: 100_000)).hasPrefix("nesting deeper than 512 levels"))
    }

    @Test func stringsAreMarkedASCIIOnlyWhenEveryByteIs() throws {
        // Decoded strings skip the standard library's validation and take this mark as
        // their ASCII flag, so a wrong mark would make `count` and indexing wrong.
        let tokens = try scan(#"["plain","é","\u00e9","x😀","e\u0301",""]"#)
        #expect(tokens.dropFirst().map(\.kind) == [.asciiString, .string, .escapedString, .string, .escapedString, .asciiString])
        let decoded = try ourDecode([String].self, #"["plain","é","x😀","é","\u0041",""]"#)
        #expect(decoded == ["plain", "é", "x😀", "e\u{301}", "A", ""])
        #expect(decoded.map(\.count) == [5, 1, 2, 1, 1, 0])
        #expect(decoded[3] == "é")
    }

    @Test func tokensAreFlatWithSkipIndices() throws {
        let tokens = try scan(#"{"a":[1,2.5],"b":"x\n"}"#)
        #expect(tokens.map(\.kind) == [.object, .asciiString, .array, .integer, .number, .asciiString, .escapedString])
        #expect(tokens[0].count == 2 && tokens[0].nextIndex == 7)
        #expect(tokens[2].count == 2 && tokens[2].nextIndex == 5)
        #expect(tokens[1].start == 2 && tokens[1].end == 3)
        #expect(tokens[6].nextIndex == 7)
    }
}
