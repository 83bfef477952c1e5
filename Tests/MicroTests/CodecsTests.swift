import CodecJSON
import MicroCore
import NIOCore
import Testing

@testable import Micro

@Suite struct CodecsTests {
    private let codecs = Codecs([JSONCodec(), NamedCodec(contentType: "application/octet-stream")])

    @Test func findsACodecByItsExactContentType() {
        #expect(codecs["application/json"]?.contentType == "application/json")
        #expect(codecs["application/octet-stream"]?.contentType == "application/octet-stream")
    }

    @Test func findsACodecIgnoringCaseParametersAndSpaces() {
        #expect(codecs["Application/JSON"]?.contentType == "application/json")
        #expect(codecs["application/json; charset=utf-8"]?.contentType == "application/json")
        #expect(codecs[" application/json ;charset=utf-8"]?.contentType == "application/json")
    }

    @Test func anUnknownContentTypeHasNoCodec() {
        #expect(codecs["application/protobuf"] == nil)
        #expect(codecs[""] == nil)
        #expect(codecs.contentTypes == ["application/json", "application/octet-stream"])
    }
}

/// A codec that only has a content type.
private struct NamedCodec: Codec {
    let contentType: String

    func encode<Value>(_ value: Value) throws -> ByteBuffer {
        throw CodecError(contentType: contentType, message: "not for encoding")
    }

    func decode<Value>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        throw CodecError(contentType: contentType, message: "not for decoding")
    }
}
