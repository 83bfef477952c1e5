@testable import CodecJSON
import NIOCore
import Testing

/// Encoding reuses each thread's state; reuse must never show.
@Suite struct JSONEncodingStateTests {
    @Test func encodingInsideEncodeGetsAFreshState() throws {
        let inner = Pair(name: "inner", values: [1, 2])
        let outer = Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: "before")
            // The spare is in use by the outer call: this one must not share it.
            let nested = String(buffer: try JSONValueEncoder.encode(inner))
            try container.encode(nested, forKey: "nested")
            try container.encode(2, forKey: "after")
        }
        #expect(try ourJSON(outer) == #"{"before":1,"nested":"{\"name\":\"inner\",\"values\":[1,2]}","after":2}"#)
        // And the states are reused correctly afterwards.
        #expect(try ourJSON(inner) == #"{"name":"inner","values":[1,2]}"#)
    }

    @Test func aContainerKeptPastEncodeDoesNotTouchLaterEncodings() throws {
        final class Kept: @unchecked Sendable { var container: KeyedEncodingContainer<Key>? }
        let kept = Kept()
        _ = try ourJSON(Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: "a")
            kept.container = container
        })
        // Writing through the kept container while a later value encodes must not
        // reach the later value's text: the kept state was not reused.
        let later = Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode("x", forKey: "b")
            try kept.container?.encode(99, forKey: "stray")
            try container.encode("y", forKey: "c")
        }
        #expect(try ourJSON(later) == #"{"b":"x","c":"y"}"#)
        #expect(try ourJSON(later) == #"{"b":"x","c":"y"}"#)
    }
}
