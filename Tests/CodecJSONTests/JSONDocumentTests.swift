@testable import CodecJSON
import Testing

/// Decoding reuses each thread's document; reuse must never show.
@Suite struct JSONDocumentTests {
    @Test func decodingInsideDecodeGetsAFreshDocument() throws {
        struct Outer: Decodable, Equatable {
            var pair: Pair
            var label: String
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                let text = try container.decode(String.self, forKey: "pair")
                pair = try ourDecode(Pair.self, text)
                label = try container.decode(String.self, forKey: "label")
            }
        }
        let outer = try ourDecode(Outer.self, #"{"pair":"{\"name\":\"n\",\"values\":[3,4,5]}","label":"after"}"#)
        #expect(outer.pair == Pair(name: "n", values: [3, 4, 5]))
        #expect(outer.label == "after")
    }

    @Test func documentsOfEverySizeDecodeOneAfterAnother() throws {
        // Large, small, large again, and an error in between: each decode starts clean.
        let large = Pair(name: String(repeating: "l", count: 300), values: Array(0..<2000))
        let small = Pair(name: "s", values: [7])
        let largeJSON = try ourJSON(large)
        let smallJSON = try ourJSON(small)
        #expect(try ourDecode(Pair.self, largeJSON) == large)
        #expect(try ourDecode(Pair.self, smallJSON) == small)
        #expect(decodingError(Pair.self, #"{"name":"broken","values":[1,2"#) != nil)
        #expect(try ourDecode(Pair.self, smallJSON) == small)
        #expect(try ourDecode(Pair.self, largeJSON) == large)
        #expect(try ourJSON(large) == largeJSON)
        #expect(try ourJSON(small) == smallJSON)
    }
}
