@testable import CodecJSON
import MicroCore
import MicroTesting
import NIOCore
import Testing

struct HelloRequest: Codable, Equatable, Sendable {
    var name: String
    var count: Int
    var tags: [String]
}

@Test(arguments: CodecConformance.cases)
func codecConformance(_ check: CodecConformance.Case) async throws {
    try await check.run(
        codec: JSONCodec(),
        sample: HelloRequest(name: "Ada", count: 1, tags: ["a"]),
        otherSample: HelloRequest(name: "Grace", count: 2, tags: [])
    )
}

@Suite struct JSONCodecTests {
    let codec = JSONCodec()

    func message(_ json: String, as type: HelloRequest.Type = HelloRequest.self) -> String {
        do {
            _ = try codec.decode(type, from: ByteBuffer(string: json))
            return "decoded"
        } catch let error as CodecError {
            #expect(error.contentType == "application/json")
            return error.message
        } catch {
            return "other error \(error)"
        }
    }

    @Test func missingKeyNamesTypeAndKey() {
        #expect(message(#"{"count":1,"tags":[]}"#) == "HelloRequest: key 'name' not found")
    }

    @Test func wrongTypeNamesTypeAndPath() {
        #expect(message(#"{"name":5,"count":1,"tags":[]}"#) == "HelloRequest: expected String at 'name'")
        #expect(message(#"{"name":"a","count":1,"tags":["x",3]}"#) == "HelloRequest: expected String at 'tags[1]'")
    }

    @Test func invalidJSONSaysSo() {
        #expect(message("{not json").hasPrefix("HelloRequest: not valid JSON"))
        #expect(message("").hasPrefix("HelloRequest: not valid JSON"))
    }

    @Test func messagesSayWhereTheJSONIsWrong() {
        #expect(message("{not json") == "HelloRequest: not valid JSON (unexpected character 'n' at offset 1)")
        #expect(message("") == "HelloRequest: not valid JSON (unexpected end of input at offset 0)")
        #expect(message(#"{"name":"a","count":1,"tags":[]} x"#) == "HelloRequest: not valid JSON (unexpected character 'x' at offset 33)")
        #expect(message(#"{"name":null,"count":1,"tags":[]}"#) == "HelloRequest: expected String at 'name' but found null")
        #expect(message(#"{"name":"a","count":1.5,"tags":[]}"#) == "HelloRequest: invalid value at 'count': Number 1.5 is not representable as Int.")
        #expect(message(#"{"name":"a","count":1,"tags":["\ud800"]}"#) == "HelloRequest: not valid JSON (unpaired surrogate escape at offset 31)")
    }

    @Test func encodingErrorsNameThePath() {
        struct Reading: Codable, Sendable { var values: [Double] }
        do {
            _ = try codec.encode(Reading(values: [1, .nan]))
            Issue.record("encoded NaN")
        } catch let error as CodecError {
            #expect(error.message == "Reading: cannot encode nan at 'values[1]': Unable to encode Double.nan directly in JSON.")
        } catch {
            Issue.record("other error \(error)")
        }
    }

    @Test func valuesInsideExistentialsStillEncode() throws {
        let boxed: any Sendable = HelloRequest(name: "a", count: 1, tags: [])
        #expect(String(buffer: try codec.encode(boxed)) == #"{"name":"a","count":1,"tags":[]}"#)
        let raw: any Sendable = ByteBuffer(string: "raw")
        #expect(try codec.encode(raw) == ByteBuffer(string: "raw"))
        // The same types again, now that their conformances are remembered.
        #expect(try codec.decode(HelloRequest.self, from: codec.encode(HelloRequest(name: "b", count: 2, tags: ["t"]))).name == "b")
        struct Opaque: Sendable { var value: Int }
        let opaque: any Sendable = Opaque(value: 1)
        #expect(throws: CodecError.self) { _ = try codec.encode(opaque) }
    }

    @Test func nonCodableTypesAreRejected() {
        struct Opaque: Sendable { var value: Int }
        #expect(throws: CodecError.self) { _ = try codec.encode(Opaque(value: 1)) }
        #expect(throws: CodecError.self) { _ = try codec.decode(Opaque.self, from: ByteBuffer(string: "{}")) }
    }

    @Test func itSaysWhichTypesItHandles() {
        struct Opaque: Sendable { var value: Int }
        struct EncodeOnly: Encodable { var value: Int }
        class Reference: Codable {}
        #expect(codec.canEncode(HelloRequest.self) && codec.canDecode(HelloRequest.self))
        #expect(codec.canEncode(ByteBuffer.self) && codec.canDecode(ByteBuffer.self))
        #expect(codec.canEncode([String].self) && codec.canDecode(Int?.self))
        #expect(codec.canEncode(Reference.self) && codec.canDecode(Reference.self))
        #expect(!codec.canEncode(Opaque.self) && !codec.canDecode(Opaque.self))
        #expect(codec.canEncode(EncodeOnly.self) && !codec.canDecode(EncodeOnly.self))
        // An existential may hold an Encodable value: taken for encoding, tried then.
        #expect(codec.canEncode((any Sendable).self) && codec.canEncode(Any.self) && codec.canEncode((any Encodable).self))
        #expect(!codec.canDecode((any Sendable).self))
        #expect(!JSONCodec.isExistential(HelloRequest.self) && !JSONCodec.isExistential(Reference.self))
        #expect(!JSONCodec.isExistential(Int?.self) && !JSONCodec.isExistential((Int, Int).self))
        #expect(codec.describe(HelloRequest.self) == nil, "the runtime describes Codable types")
    }

    @Test func byteBufferPassesThrough() throws {
        let raw = ByteBuffer(bytes: [0xFF, 0x00, 0x01])
        #expect(try codec.encode(raw) == raw)
        #expect(try codec.decode(ByteBuffer.self, from: raw) == raw)
    }

    @Test func encodesJSON() throws {
        let bytes = try codec.encode(["k": "v"])
        #expect(String(buffer: bytes) == #"{"k":"v"}"#)
        #expect(codec.contentType == "application/json")
    }

    @Test func pluginMakesJSONCodec() throws {
        #expect(Plugin.json.kind == .codec)
        #expect(Plugin.json.name == "json")
        let codecs = try Plugins([.json]).makeCodecs(MicroOptions())
        #expect(codecs.map(\.contentType) == ["application/json"])
    }

    @Test func decodesGoMicroServiceRecordWithNulls() throws {
        let json = #"{"name":"go.micro.srv.greeter","version":"latest","metadata":null,"endpoints":[{"name":"Greeter.Hello","request":{"name":"Request","type":"Request","values":[{"name":"name","type":"string","values":null}]},"response":null,"metadata":{}}],"nodes":[{"metadata":null,"id":"go.micro.srv.greeter-1","address":"10.0.0.1:5000"}]}"#
        let record = try codec.decode(ServiceRecord.self, from: ByteBuffer(string: json))
        #expect(record.name == "go.micro.srv.greeter")
        #expect(record.version == "latest")
        #expect(record.metadata.isEmpty)
        #expect(record.endpoints.count == 1)
        #expect(record.endpoints.first?.request == EndpointValue(name: "Request", type: "Request", values: [EndpointValue(name: "name", type: "string")]))
        #expect(record.endpoints.first?.response == nil)
        #expect(record.nodes == [Node(id: "go.micro.srv.greeter-1", address: "10.0.0.1:5000")])
        let again = try codec.decode(ServiceRecord.self, from: try codec.encode(record))
        #expect(again == record)
    }

    @Test func microErrorRoundTripsAndParsesPlainText() throws {
        let error = MicroError.notFound("service greeter not found", id: "greeter")
        let decoded = try codec.decode(MicroError.self, from: try codec.encode(error))
        #expect(decoded == error)
        #expect(MicroError.parse(error.json) == error)
        #expect(error.json.contains(#""status":"Not Found""#))
        let plain = MicroError.parse("rpc: can't find service Foo")
        #expect(plain.code == 500)
        #expect(plain.detail == "rpc: can't find service Foo")
        #expect(!MicroError(code: 500, detail: "x").json.contains("\"id\""))
    }
}
