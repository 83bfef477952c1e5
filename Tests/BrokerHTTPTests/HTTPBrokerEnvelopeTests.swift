@testable import BrokerHTTP
import MicroCore
import NIOCore
import Testing

/// go-micro's broker message JSON, written as Go writes it and read as Go may write it.
struct HTTPBrokerEnvelopeTests {
    @Test func encodesAsGoDoes() {
        var headers = Metadata()
        headers["X-Trace"] = "abc"
        headers["Micro-Topic"] = "greeter.greetings"
        headers["Content-Type"] = "application/json"
        headers["Micro-ID"] = "id"
        let envelope = HTTPBrokerEnvelope(headers: headers, body: ByteBuffer(string: "{\"name\":\"Ada 0\"}\n"))
        #expect(
            String(buffer: envelope.encoded())
                == #"{"Header":{"Content-Type":"application/json","Micro-ID":"id","Micro-Topic":"greeter.greetings","X-Trace":"abc"},"Body":"eyJuYW1lIjoiQWRhIDAifQo="}"# + "\n"
        )
    }

    @Test func escapesStringsAsGoDoes() {
        var out = ByteBuffer()
        HTTPBrokerEnvelope.writeJSONString("a\"b\\c\n\t\r<>&\u{01}\u{2028}é😀", to: &out)
        #expect(String(buffer: out) == #""a\"b\\c\n\t\r\u003c\u003e\u0026\u0001\u2028é😀""#)
    }

    @Test func emptyMessage() {
        #expect(String(buffer: HTTPBrokerEnvelope(headers: Metadata(), body: ByteBuffer()).encoded()) == #"{"Header":{},"Body":""}"# + "\n")
    }

    @Test func decodesNullsAndRoundTrips() throws {
        let nulls = try HTTPBrokerEnvelope(decoding: ByteBuffer(string: #"{"Header":null,"Body":null}"#))
        #expect(nulls.headers.isEmpty)
        #expect(nulls.body.readableBytes == 0)
        var headers = Metadata()
        headers["Micro-Topic"] = "t"
        headers["Odd"] = "<\u{2028}\"\\"
        var body = ByteBuffer()
        body.writeBytes(Array(0...255) as [UInt8])
        let decoded = try HTTPBrokerEnvelope(decoding: HTTPBrokerEnvelope(headers: headers, body: body).encoded())
        #expect(decoded.headers["odd"] == "<\u{2028}\"\\")
        #expect(decoded.headers["micro-topic"] == "t")
        #expect(decoded.body == body)
    }

    @Test func saysWhatIsWrong() {
        for (input, mentions) in [
            ("", "JSON"), ("{", "JSON"), ("[]", "Header"), (#"{"Header":{"a":1}}"#, "Header"), (#"{"Body":"***"}"#, "base64"),
        ] {
            #expect {
                _ = try HTTPBrokerEnvelope(decoding: ByteBuffer(string: input))
            } throws: { error in
                "\(error)".contains(mentions)
            }
        }
    }
}
