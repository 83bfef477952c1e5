@testable import CodecJSON
import Foundation
import NIOCore
import Testing

/// Encodes whatever the closure does with the encoder.
struct Custom: Encodable {
    let body: @Sendable (any Encoder) throws -> Void
    func encode(to encoder: any Encoder) throws { try body(encoder) }
}

/// A key for hand-written containers.
struct Key: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { stringValue = value }
}

@Suite struct JSONValueEncoderTests {
    @Test func compactWithKeysInEncodingOrder() throws {
        struct Ordered: Encodable { var zebra = 1, apple = "a", mango = [true, false] }
        #expect(try ourJSON(Ordered()) == #"{"zebra":1,"apple":"a","mango":[true,false]}"#)
    }

    @Test func topLevelFragments() throws {
        #expect(try ourJSON("a") == #""a""#)
        #expect(try ourJSON(5) == "5")
        #expect(try ourJSON(true) == "true")
        #expect(try ourJSON(Int?.none) == "null")
        #expect(try ourJSON(2.5) == "2.5")
        #expect(try ourJSON([Int]()) == "[]")
        #expect(try ourJSON([String: Int]()) == "{}")
    }

    @Test func emptyContainersAndValuesThatEncodeNothing() throws {
        #expect(try ourJSON(Custom { _ = $0.container(keyedBy: Key.self) }) == "{}")
        #expect(try ourJSON(Custom { _ = $0.unkeyedContainer() }) == "[]")
        let nothing = Custom { _ in }
        #expect(try ourJSON([nothing, nothing]) == "[{},{}]")
        #expect(try ourJSON(["a": nothing]) == #"{"a":{}}"#)
        #expect(throws: EncodingError.self) { try ourJSON(nothing) }
    }

    @Test func optionals() throws {
        struct Optionals: Encodable {
            var present: Int? = 1
            var absent: Int?
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encodeIfPresent(present, forKey: "present")
                try container.encodeIfPresent(absent, forKey: "absent")
                try container.encode(absent, forKey: "explicit")
                try container.encodeNil(forKey: "nil")
            }
        }
        #expect(try ourJSON(Optionals()) == #"{"present":1,"explicit":null,"nil":null}"#)
        #expect(try ourJSON([1, nil, 3] as [Int?]) == "[1,null,3]")
    }

    @Test func foundationSpecialTypes() throws {
        #expect(try ourJSON(Data([1, 2, 3])) == #""AQID""#)
        #expect(try ourJSON(URL(string: "https://x.org/a?b=c")!) == #""https://x.org/a?b=c""#)
        #expect(try ourJSON(Decimal(string: "-12.50")!) == "-12.5")
        #expect(try ourJSON(Date(timeIntervalSinceReferenceDate: 1.5)) == "1.5")
        #expect(try ourJSON(["d": Data()]) == #"{"d":""}"#)
        #expect(throws: EncodingError.self) { try ourJSON(Decimal.nan) }
    }

    @Test func superEncoders() throws {
        #expect(try ourJSON(Dog(name: "Rex", breed: "Collie")) == #"{"breed":"Collie","super":{"name":"Rex","legs":4}}"#)
        #expect(try ourJSON(Custom { var c = $0.container(keyedBy: Key.self); _ = c.superEncoder() }) == #"{"super":{}}"#)
        #expect(try ourJSON(Custom { var c = $0.container(keyedBy: Key.self); _ = c.superEncoder(forKey: "base") }) == #"{"base":{}}"#)
        let unkeyed = Custom { encoder in
            var c = encoder.unkeyedContainer()
            try c.encode(1)
            var inner = c.superEncoder().singleValueContainer()
            try inner.encode("s")
            try c.encode(2)
        }
        #expect(try ourJSON(unkeyed) == #"[1,"s",2]"#)
    }

    @Test func subclassSharingTheEncoderMergesIntoOneObject() throws {
        let shared = Custom { encoder in
            var own = encoder.container(keyedBy: Key.self)
            try own.encode(1, forKey: "own")
            var base = encoder.container(keyedBy: Key.self)
            try base.encode(2, forKey: "base")
        }
        #expect(try ourJSON(shared) == #"{"own":1,"base":2}"#)
    }

    @Test func containersCanBeFilledInAnyOrder() throws {
        let interleaved = Custom { encoder in
            var outer = encoder.container(keyedBy: Key.self)
            var first = outer.nestedUnkeyedContainer(forKey: "first")
            var second = outer.nestedContainer(keyedBy: Key.self, forKey: "second")
            try outer.encode("x", forKey: "third")
            try first.encode(1)
            try second.encode(true, forKey: "b")
            try first.encode(2)
            var deeper = first.nestedContainer(keyedBy: Key.self)
            try outer.encode("y", forKey: "fourth")
            try deeper.encode(3, forKey: "c")
            try first.encode(4)
        }
        #expect(try ourJSON(interleaved) == #"{"first":[1,2,{"c":3},4],"second":{"b":true},"third":"x","fourth":"y"}"#)
    }

    @Test func singleValueWrittenAfterOtherText() throws {
        // The wrapper's key is written, then something else, then the value.
        let late = Custom { encoder in
            var outer = encoder.container(keyedBy: Key.self)
            let wrapper = outer.superEncoder(forKey: "late")
            try outer.encode(1, forKey: "first")
            var single = wrapper.singleValueContainer()
            try single.encode("value")
        }
        #expect(try ourJSON(late) == #"{"late":"value","first":1}"#)
    }

    @Test func aKeyEncodedTwiceIsWrittenTwiceAndTheLaterWins() throws {
        let twice = Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: "a")
            try container.encode(2, forKey: "b")
            try container.encode(3, forKey: "a")
        }
        let json = try ourJSON(twice)
        #expect(json == #"{"a":1,"b":2,"a":3}"#)
        #expect(try ourDecode([String: Int].self, json) == ["a": 3, "b": 2])
    }

    @Test func nonFiniteNumbersThrowWithPath() throws {
        struct Values: Encodable { var values: [Double] }
        let error = #expect(throws: EncodingError.self) { try ourJSON(Values(values: [1, .nan])) }
        guard case .invalidValue(_, let context) = error else { return }
        #expect(JSONCodec.path(context.codingPath) == "values[1]")
        #expect(context.debugDescription == "Unable to encode Double.nan directly in JSON.")
        #expect(throws: EncodingError.self) { try ourJSON(Float.infinity) }
        #expect(throws: EncodingError.self) { try ourJSON(["k": -Double.infinity]) }
    }

    @Test func anErrorCaughtByTheContainerLeavesNoTrace() throws {
        let forgiving = Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: "a")
            try? container.encode([Double.nan], forKey: "bad")
            try? container.encode(Custom { _ in throw CancellationError() }, forKey: "worse")
            try container.encode(2, forKey: "b")
        }
        #expect(try ourJSON(forgiving) == #"{"a":1,"b":2}"#)
    }

    @Test func flatValuesAreHandedOverWithExactlyTheirText() throws {
        // A scalar, or an object or array of scalars, leaves in the writer's own buffer
        // (the spare byte in front takes the opening bracket); the buffer must hold
        // exactly the text and be the caller's to change.
        struct Flat: Encodable { var name = "x", count = 2, on = true }
        let cases: [(any Encodable, String)] = [
            ("a", #""a""#), ("", #""""#), (7, "7"), (Flat(), #"{"name":"x","count":2,"on":true}"#),
            ([1, 2, 3], "[1,2,3]"), ([String](), "[]"), (["k": "v"], #"{"k":"v"}"#),
            (String(repeating: "y", count: 5000), "\"" + String(repeating: "y", count: 5000) + "\""),
        ]
        for (value, expected) in cases {
            var buffer = try JSONValueEncoder.encode(value)
            #expect(buffer.readableBytes == expected.utf8.count)
            #expect(String(buffer: buffer) == expected)
            buffer.writeString("!")
            #expect(String(buffer: buffer) == expected + "!")
        }
    }

    @Test func textAfterTheRunIsNotHandedOver() throws {
        // The failed element's text stays in the writer after the run; the value then
        // takes the copying path, which leaves it out.
        let trailing = Custom { encoder in
            var container = encoder.unkeyedContainer()
            try container.encode(1)
            try? container.encode(Custom { encoder in
                var single = encoder.singleValueContainer()
                try single.encode("abandoned")
                throw CancellationError()
            })
        }
        #expect(try ourJSON(trailing) == "[1]")
    }

    @Test func misuseThrowsInsteadOfTrapping() {
        #expect(throws: EncodingError.self) {
            try ourJSON(Custom { encoder in
                var single = encoder.singleValueContainer()
                try single.encode(1)
                try single.encode(2)
            })
        }
        #expect(throws: EncodingError.self) {
            try ourJSON(Custom { encoder in
                var single = encoder.singleValueContainer()
                try single.encode(1)
                _ = encoder.container(keyedBy: Key.self)
            })
        }
        #expect(throws: EncodingError.self) {
            try ourJSON(Custom { encoder in
                _ = encoder.unkeyedContainer()
                _ = encoder.container(keyedBy: Key.self)
            })
        }
    }

    @Test func codingPathsAndCounts() throws {
        final class Paths: @unchecked Sendable { var seen: [String] = [] }
        let paths = Paths()
        let leaf = Custom { encoder in
            paths.seen.append(JSONCodec.path(encoder.codingPath))
            var c = encoder.singleValueContainer()
            try c.encode(0)
        }
        let tree = Custom { encoder in
            var outer = encoder.container(keyedBy: Key.self)
            var list = outer.nestedUnkeyedContainer(forKey: "list")
            try list.encode(leaf)
            #expect(list.count == 1)
            var inner = list.nestedContainer(keyedBy: Key.self)
            try inner.encode(leaf, forKey: "leaf")
            #expect(list.count == 2)
            #expect(JSONCodec.path(inner.codingPath) == "list[1]")
            try outer.encode(leaf, forKey: "top")
        }
        _ = try ourJSON(tree)
        #expect(paths.seen == ["list[0]", "list[1].leaf", "top"])
    }

    @Test func corpusEncodesToValidJSON() throws {
        let bytes = try JSONValueEncoder.encode(Everything())
        _ = try bytes.withUnsafeReadableBytes { try JSONScanner.scan($0.assumingMemoryBound(to: UInt8.self)) }
    }
}
