import CodecJSON
import MicroCore
import MicroTesting
import Testing

private struct Sample: Codable, Equatable, Sendable {
    var name: String
    var count: Int
}

/// The codec suite checks what decoding an empty buffer gives, instead of ignoring it,
/// and that a codec declines the types it cannot handle.
@Suite struct CodecConformanceTests {
    func run(_ name: String, _ codec: any Codec) async throws -> ConformanceFailure? {
        let check = try #require(CodecConformance.cases.first { $0.name == name })
        do {
            try await check.run(codec: codec, sample: Sample(name: "a", count: 1), otherSample: Sample(name: "b", count: 2))
            return nil
        } catch let failure as ConformanceFailure {
            return failure
        }
    }

    @Test func aCodecThatMakesUpAValueFromNoBytesFails() async throws {
        let codec = MadeUpValueCodec(fallback: #"{"name":"","count":0}"#)
        let failure = try #require(try await run("emptyBufferDoesNotCrash", codec), "passed a codec that decodes no bytes into a value")
        #expect(failure.message.hasPrefix("CodecConformance.emptyBufferDoesNotCrash: decoding an empty buffer as Sample gave"), "\(failure)")
        #expect(failure.message.contains("encodes to 21 bytes"), "\(failure)")
        // The same codec passes the cases its bug does not touch.
        #expect(try await run("roundTrip", codec) == nil)
    }

    @Test func jsonPassesTheEmptyBufferCase() async throws {
        #expect(try await run("emptyBufferDoesNotCrash", JSONCodec()) == nil)
    }

    @Test func aCodecThatDoesNotDeclineATypeItCannotHandleFails() async throws {
        // MadeUpValueCodec keeps Codec's default: it takes every type.
        let failure = try #require(
            try await run("declinesUnhandledTypes", MadeUpValueCodec(fallback: "{}")), "passed a codec that declines nothing"
        )
        #expect(failure.message.hasPrefix("CodecConformance.declinesUnhandledTypes: canEncode(Unhandled) is true"), "\(failure)")
    }

    @Test func aCodecThatThrowsSomethingElseThanCodecErrorFails() async throws {
        let failure = try #require(try await run("declinesUnhandledTypes", WrongErrorCodec()), "passed a codec that throws its own error")
        #expect(failure.message.contains("encoding Unhandled threw Refused"), "\(failure)")
        #expect(failure.message.contains("expected a CodecError"), "\(failure)")
        // Its other behaviour is JSON's.
        #expect(try await run("roundTrip", WrongErrorCodec()) == nil)
    }

    @Test func jsonDeclinesWhatItCannotHandle() async throws {
        #expect(try await run("declinesUnhandledTypes", JSONCodec()) == nil)
    }
}
