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

/// Several codecs on one content type: the first (in link order) that takes a type.
@Suite struct CodecsChoiceTests {
    @Test func aTypeTheFirstCodecDeclinesGoesToTheNextOfTheSameContentType() throws {
        let codecs = Codecs([TaggedJSONCodec(), JSONCodec()])
        let json = try #require(codecs.index(of: "application/json"))
        #expect(codecs.count == 1)
        #expect(codecs.strictEncoder(at: json, for: Hello.self) is JSONCodec)
        #expect(codecs.strictDecoder(at: json, for: Hello.self) is JSONCodec)
        #expect(codecs.strictEncoder(at: json, for: Tagged.self) is TaggedJSONCodec)
        #expect(codecs.strictDecoder(at: json, for: Tagged.self) is TaggedJSONCodec)
        // The client's choice asks as well when a content type has several codecs.
        #expect(codecs.encoder(at: json, for: Hello.self) is JSONCodec)
        #expect(codecs.decoder(at: json, for: Tagged.self) is TaggedJSONCodec)
    }

    @Test func theFirstLinkedCodecThatTakesATypeWins() throws {
        let codecs = Codecs([TaggedJSONCodec(mark: "a"), TaggedJSONCodec(mark: "b"), JSONCodec()])
        let json = try #require(codecs.index(of: "application/json"))
        let codec = try #require(codecs.strictEncoder(at: json, for: Tagged.self))
        #expect(String(buffer: try codec.encode(Tagged(name: "x"))) == #"{"tagged":"x","by":"a"}"#)
        // The codec for a content type whatever the type is the first linked.
        #expect((codecs["application/json"] as? TaggedJSONCodec)?.mark == "a")
    }

    @Test func noCodecTakesATypeEveryCodecDeclines() throws {
        let codecs = Codecs([TaggedJSONCodec(), TextCodec()])
        let json = try #require(codecs.index(of: "application/json"))
        let text = try #require(codecs.index(of: "Text/Plain; charset=utf-8"))
        #expect(codecs.strictEncoder(at: json, for: Hello.self) == nil)
        #expect(codecs.strictDecoder(at: text, for: Hello.self) == nil)
        // A content type with one codec is taken without asking it (its encode throws).
        #expect(codecs.encoder(at: text, for: Hello.self) is TextCodec)
    }

    @Test func codecsDescribeTypesInLinkOrderBeforeTheFallback() {
        let codecs = Codecs([JSONCodec(), TaggedJSONCodec()])
        let fallback = EndpointValue(name: "fallback", type: "fallback")
        #expect(codecs.describe(Tagged.self, fallback: fallback).type == "tagged.v1")
        #expect(codecs.describe(Hello.self, fallback: fallback) == fallback)
    }
}
