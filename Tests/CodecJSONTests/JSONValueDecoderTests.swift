@testable import CodecJSON
import Foundation
import MicroTesting
import NIOCore
import Testing

/// Runs `read` on our decoder for the top-level value of `json`.
func probe<Result>(_ json: String, _ read: (any Decoder) throws -> Result) throws -> Result {
    try JSONDocument.read(ByteBuffer(string: json)) { document in
        try read(JSONValueDecoder(document: document, index: 0))
    }
}

@Suite struct JSONValueDecoderTests {
    @Test func keyedContainer() throws {
        let json = #"{"a":1,"b":null,"c":"x","n\u0061me":"escaped","list":[1],"obj":{"k":true}}"#
        try probe(json) { decoder in
            let c = try decoder.container(keyedBy: Key.self)
            #expect(c.allKeys.map(\.stringValue) == ["a", "b", "c", "name", "list", "obj"])
            #expect(c.contains("a") && c.contains("b") && !c.contains("z"))
            #expect(try c.decodeNil(forKey: "b"))
            #expect(try !c.decodeNil(forKey: "a"))
            #expect(throws: DecodingError.self) { try c.decodeNil(forKey: "z") }
            #expect(try c.decodeIfPresent(Int.self, forKey: "a") == 1)
            #expect(try c.decodeIfPresent(Int.self, forKey: "b") == nil)
            #expect(try c.decodeIfPresent(Int.self, forKey: "z") == nil)
            #expect(try c.decodeIfPresent([Int].self, forKey: "list") == [1])
            #expect(throws: DecodingError.self) { try c.decodeIfPresent(Int.self, forKey: "c") }
            #expect(try c.decode(String.self, forKey: "name") == "escaped")
            var list = try c.nestedUnkeyedContainer(forKey: "list")
            #expect(try list.decode(Int.self) == 1)
            let obj = try c.nestedContainer(keyedBy: Key.self, forKey: "obj")
            #expect(try obj.decode(Bool.self, forKey: "k"))
            #expect(JSONCodec.path(obj.codingPath) == "obj")
            #expect(throws: DecodingError.self) { try c.nestedContainer(keyedBy: Key.self, forKey: "a") }
            #expect(throws: DecodingError.self) { try c.nestedUnkeyedContainer(forKey: "z") }
        }
    }

    @Test func unkeyedContainer() throws {
        try probe(#"[1,null,"x",[2],{"k":3}]"#) { decoder in
            var c = try decoder.unkeyedContainer()
            #expect(c.count == 5 && c.currentIndex == 0 && !c.isAtEnd)
            #expect(try !c.decodeNil())
            #expect(try c.decode(Int.self) == 1)
            #expect(try c.decodeNil())
            #expect(c.currentIndex == 2)
            #expect(throws: DecodingError.self) { try c.decode(Int.self) }
            #expect(c.currentIndex == 2)  // A failed decode does not move on.
            #expect(try c.decode(String.self) == "x")
            var inner = try c.nestedUnkeyedContainer()
            #expect(try inner.decode(Int.self) == 2 && inner.isAtEnd)
            #expect(JSONCodec.path(inner.codingPath) == "[3]")
            let object = try c.nestedContainer(keyedBy: Key.self)
            #expect(try object.decode(Int.self, forKey: "k") == 3)
            #expect(c.isAtEnd && c.currentIndex == 5)
            let error = #expect(throws: DecodingError.self) { try c.decode(Int.self) }
            guard case .valueNotFound(_, let context) = error else { Issue.record("expected valueNotFound"); return }
            #expect(JSONCodec.path(context.codingPath) == "[5]")
            #expect(throws: DecodingError.self) { try c.decodeNil() }
        }
    }

    @Test func superDecoders() throws {
        let dog = try ourDecode(Dog.self, #"{"super":{"name":"Rex","legs":4},"breed":"Collie"}"#)
        #expect(dog == Dog(name: "Rex", breed: "Collie"))
        try probe(#"{"a":1}"#) { decoder in
            let c = try decoder.container(keyedBy: Key.self)
            let absent = try c.superDecoder()
            #expect(try absent.singleValueContainer().decodeNil())
            #expect(JSONCodec.path(absent.codingPath) == "super")
            #expect(throws: DecodingError.self) { try absent.container(keyedBy: Key.self) }
            #expect(try c.superDecoder(forKey: "a").singleValueContainer().decode(Int.self) == 1)
        }
        try probe("[5]") { decoder in
            var c = try decoder.unkeyedContainer()
            #expect(try c.superDecoder().singleValueContainer().decode(Int.self) == 5)
            #expect(throws: DecodingError.self) { try c.superDecoder() }
        }
    }

    @Test func repeatedKeysLastWins() throws {
        #expect(try ourDecode([String: Int].self, #"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
        struct A: Decodable, Equatable { var a: Int }
        #expect(try ourDecode(A.self, #"{"a":1,"a":2}"#) == A(a: 2))
        #expect(try ourDecode(A.self, #"{"a":1,"\u0061":2}"#) == A(a: 2))
        // A large object is indexed by name; the same rule holds.
        var members = (0..<40).map { "\"k\($0)\":\($0)" }
        members.append(#""k3":-3"#)
        let large = try ourDecode([String: Int].self, "{" + members.joined(separator: ",") + "}")
        #expect(large.count == 40 && large["k3"] == -3 && large["k39"] == 39)
        try probe(#"{"a":1,"b":2,"a":3}"#) { decoder in
            let keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
            #expect(keys == ["b", "a"])
        }
    }

    @Test func integers() throws {
        #expect(try ourDecode(Int.self, "1.0") == 1)
        #expect(try ourDecode(Int.self, "1e2") == 100)
        #expect(try ourDecode(Int.self, "1.5e1") == 15)
        #expect(try ourDecode(Int.self, "1500e-2") == 15)
        #expect(try ourDecode(Int.self, "-0") == 0)
        #expect(try ourDecode(UInt.self, "-0") == 0)
        #expect(try ourDecode(Int.self, "-0.0") == 0)
        #expect(try ourDecode(Int.self, "0e999999999999") == 0)
        #expect(try ourDecode(UInt64.self, "18446744073709551615") == .max)
        #expect(try ourDecode(UInt64.self, "1.8446744073709551615e19") == .max)
        #expect(try ourDecode(Int64.self, "-9223372036854775808") == .min)
        #expect(try ourDecode(Int128.self, "-170141183460469231731687303715884105728") == .min)
        #expect(try ourDecode(UInt128.self, "340282366920938463463374607431768211455") == .max)
        #expect(try ourDecode(Int.self, "9007199254740993.0") == 9_007_199_254_740_993)
    }

    @Test(arguments: [
        ("Int8", "128"), ("Int8", "-129"), ("UInt8", "256"), ("UInt8", "-1"), ("Int16", "32768"),
        ("UInt16", "65536"), ("Int32", "2147483648"), ("UInt32", "4294967296"), ("Int64", "9223372036854775808"),
        ("Int64", "-9223372036854775809"), ("UInt64", "18446744073709551616"), ("Int", "1e19"), ("Int", "1.5"),
        ("Int", "1e-2"), ("Int", "12345678901234567890123"), ("UInt", "-1"), ("Int", "1e999999999999"),
        ("Int128", "170141183460469231731687303715884105728"), ("UInt128", "340282366920938463463374607431768211456"),
    ])
    func integerOutOfRangeIsDataCorrupted(_ type: String, _ json: String) {
        let error: DecodingError? = switch type {
        case "Int8": decodingError(Int8.self, json)
        case "UInt8": decodingError(UInt8.self, json)
        case "Int16": decodingError(Int16.self, json)
        case "UInt16": decodingError(UInt16.self, json)
        case "Int32": decodingError(Int32.self, json)
        case "UInt32": decodingError(UInt32.self, json)
        case "Int64": decodingError(Int64.self, json)
        case "UInt64": decodingError(UInt64.self, json)
        case "UInt": decodingError(UInt.self, json)
        case "Int128": decodingError(Int128.self, json)
        case "UInt128": decodingError(UInt128.self, json)
        default: decodingError(Int.self, json)
        }
        #expect(corruptedDescription(error) == "Number \(json) is not representable as \(type).")
    }

    @Test func floatingPoint() throws {
        #expect(try ourDecode(Double.self, "-0").sign == .minus)
        #expect(try ourDecode(Double.self, "1e-400") == 0)
        #expect(try ourDecode(Double.self, "4.9e-324") == .leastNonzeroMagnitude)
        #expect(try ourDecode(Double.self, "1.7976931348623157e308") == .greatestFiniteMagnitude)
        #expect(try ourDecode(Double.self, "123456789012345678901234567890") == 123456789012345678901234567890.0)
        #expect(try ourDecode(Float.self, "3.4028235e38") == .greatestFiniteMagnitude)
        #expect(try ourDecode(Float.self, "16777217") == 16777216)
        #expect(corruptedDescription(decodingError(Double.self, "1e400")) == "Number 1e400 is not representable as Double.")
        #expect(corruptedDescription(decodingError(Float.self, "1e39")) == "Number 1e39 is not representable as Float.")
        // Every digit count and exponent the fast path handles, against Swift's own parser.
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let digits = String(UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random))
            let exponent = Int.random(in: -30...30, using: &random)
            let text = "\(digits)e\(exponent)"
            #expect(try ourDecode(Double.self, text) == Double(text)!, "\(text)")
            if let float = Float(text), float.isFinite {
                #expect(try ourDecode(Float.self, text) == float, "\(text)")
            }
            let fraction = "0.\(digits)"
            #expect(try ourDecode(Double.self, fraction) == Double(fraction)!, "\(fraction)")
        }
    }

    @Test func strings() throws {
        #expect(try ourDecode(String.self, #""\ud83d\ude00 \u00e9 \u65E5 \/ \b\f\n\r\t \" \\ \u0000""#) == "😀 é 日 / \u{8}\u{C}\n\r\t \" \\ \u{0}")
        #expect(try ourDecode(String.self, #""\uD83D\uDE00""#) == "😀")
        #expect(try ourDecode(String.self, "\"é日本😀\"") == "é日本😀")
        #expect(try ourDecode([String].self, #"["", "\u0041"]"#) == ["", "A"])
    }

    @Test func mismatchesNameTheTypeAndPath() throws {
        struct Outer: Decodable { var inner: [String: [Int]] }
        let error = decodingError(Outer.self, #"{"inner":{"a":[1,"x"]}}"#)
        guard case .typeMismatch(let type, _) = error else { Issue.record("expected typeMismatch, got \(String(describing: error))"); return }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
        #expect(pathText(error) == "inner.a[1]")
        guard case .valueNotFound = decodingError(String.self, "null") else { Issue.record("expected valueNotFound"); return }
        guard case .typeMismatch = decodingError(Bool.self, "1") else { Issue.record("expected typeMismatch"); return }
        guard case .typeMismatch = decodingError(Int.self, #""1""#) else { Issue.record("expected typeMismatch"); return }
        guard case .typeMismatch = decodingError([Int].self, "{}") else { Issue.record("expected typeMismatch"); return }
        guard case .typeMismatch = decodingError([String: Int].self, "[]") else { Issue.record("expected typeMismatch"); return }
        guard case .valueNotFound = decodingError([Int].self, "null") else { Issue.record("expected valueNotFound"); return }
        guard case .keyNotFound(let key, _) = decodingError(Address.self, #"{"street":"s"}"#) else { Issue.record("expected keyNotFound"); return }
        #expect(key.stringValue == "city")
        struct Home: Decodable { var address: Address }
        #expect(pathText(decodingError(Home.self, #"{"address":{"street":1}}"#)) == "address.street")
        #expect(corruptedDescription(decodingError(Data.self, #""not base64!""#)) == "Encountered Data is not valid Base64.")
    }

    @Test func codingPathsAreRebuiltFromTheDocument() throws {
        final class Paths: @unchecked Sendable { var seen: [String] = [] }
        let paths = Paths()
        struct Leaf: Decodable {
            nonisolated(unsafe) static var paths: Paths?
            init(from decoder: any Decoder) throws {
                Leaf.paths?.seen.append(JSONCodec.path(decoder.codingPath))
            }
        }
        Leaf.paths = paths
        defer { Leaf.paths = nil }
        _ = try ourDecode([String: [Leaf]].self, #"{"a":[{},{}],"b\"c":[1]}"#)
        #expect(paths.seen.sorted() == ["a[0]", "a[1]", "b\"c[0]"])
    }

    @Test func errorPathsInLargeAndDeepDocuments() throws {
        struct Strict: Decodable { var value: Int }
        let elements = (0..<5000).map { $0 == 4321 ? #"{"value":"x"}"# : #"{"value":\#($0)}"# }
        let error = decodingError([Strict].self, "[" + elements.joined(separator: ",") + "]")
        #expect(pathText(error) == "[4321].value")
        let deep = String(repeating: #"{"a\"b":["#, count: 100) + "1" + String(repeating: "]}", count: 100)
        let deepError = decodingError(JSONValue.self, deep)
        #expect(deepError == nil)
        struct Nest: Decodable { var inner: [String: [Nest]]? ; var leaf: Bool? }
        let nested = #"{"inner":{"k":[{"leaf":true},{"inner":{"z":[{"leaf":3}]}}]}}"#
        #expect(pathText(decodingError(Nest.self, nested)) == "inner.k[1].inner.z[0].leaf")
        // A type that tries one decoding after another meets an error per attempt; each
        // must not cost a walk over the whole document.
        let many = "[" + Array(repeating: #""text""#, count: 50_000).joined(separator: ",") + "]"
        #expect(try ourDecode([JSONValue].self, many).count == 50_000)
    }

    @Test func largeDocuments() throws {
        let big = (0..<10_000).map { Address(street: "street \($0)", city: "city", zip: $0.isMultiple(of: 2) ? nil : "z") }
        #expect(try JSONValueDecoder.decode([Address].self, from: JSONValueEncoder.encode(big)) == big)
        let dictionary = Dictionary(uniqueKeysWithValues: (0..<10_000).map { ("key\($0)", $0) })
        #expect(try JSONValueDecoder.decode([String: Int].self, from: JSONValueEncoder.encode(dictionary)) == dictionary)
        let long = String(repeating: "ab\"c\\é😀\n", count: 10_000)
        #expect(try JSONValueDecoder.decode(String.self, from: JSONValueEncoder.encode(long)) == long)
    }

    @Test func deepNestingDecodesUpToTheLimit() throws {
        indirect enum Nest: Decodable { case leaf, node([Nest])
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                self = c.isAtEnd ? .leaf : .node([try c.decode(Nest.self)])
            }
        }
        let limit = JSONScanner.maximumDepth
        _ = try ourDecode(Nest.self, String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        let error = decodingError(Nest.self, String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1))
        #expect(corruptedDescription(error).hasPrefix("nesting deeper than"))
    }
}
