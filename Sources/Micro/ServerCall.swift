import MicroCore
import NIOCore

/// One inbound call on the server: its transport stream, first message and codecs.
struct ServerCall: Sendable {
    let stream: any TransportStream
    let first: TransportMessage
    /// The codecs that read its requests and write its answers.
    let codecs: CallCodecs
    let endpoint: String
    let callID: String?
    let streamID: String?

    /// Decodes a request, turning a codec failure into a 400 that says what did not
    /// decode.
    func decode<Value>(_ type: Value.Type, from body: ByteBuffer) throws -> Value {
        try ServerCall.decode(type, from: body, codec: codecs.decoder, endpoint: endpoint)
    }

    /// Encodes an answer, turning a codec failure into a 500.
    func encode<Value>(_ value: Value) throws -> ByteBuffer {
        try ServerCall.encode(value, codec: codecs.encoder, endpoint: endpoint)
    }

    /// Decodes a request of `endpoint` with `codec`, turning a codec failure into a 400
    /// that says what did not decode.
    static func decode<Value>(_ type: Value.Type, from body: ByteBuffer, codec: any Codec, endpoint: String) throws -> Value {
        do {
            return try codec.decode(type, from: body)
        } catch {
            throw MicroError.badRequest("\(endpoint): could not decode request as \(Value.self): \(error)")
        }
    }

    /// Encodes an answer of `endpoint` with `codec`, turning a codec failure into a 500.
    static func encode<Value>(_ value: Value, codec: any Codec, endpoint: String) throws -> ByteBuffer {
        do {
            return try codec.encode(value)
        } catch {
            throw MicroError.internalServerError("\(endpoint): could not encode response \(Value.self): \(error)")
        }
    }

    /// Sends an answer body, with the encoder's `Content-Type`.
    ///
    /// With `endOfStream`, this side of the stream closes with it (one write on TCP).
    func reply(_ body: ByteBuffer, endOfStream: Bool = false) async throws {
        var headers = ServerCall.replyHeaders(callID: callID, streamID: streamID)
        headers.append(MicroHeader.contentType, codecs.encoder.contentType)
        try await stream.send(TransportMessage(headers: headers, body: body), endOfStream: endOfStream)
    }

    /// Sends an error, or `EOS` for the end of a stream.
    func replyError(_ text: String, endOfStream: Bool = false) async throws {
        try await ServerCall.replyError(text, on: stream, callID: callID, streamID: streamID, endOfStream: endOfStream)
    }

    /// Sends an error on `stream`, echoing the call's ids; with `endOfStream`, this side
    /// of the stream closes with it.
    static func replyError(
        _ text: String, on stream: any TransportStream, callID: String?, streamID: String?, endOfStream: Bool = false
    ) async throws {
        var headers = replyHeaders(callID: callID, streamID: streamID)
        headers.append(MicroHeader.error, text)
        try await stream.send(TransportMessage(headers: headers), endOfStream: endOfStream)
    }

    /// The headers every answer carries: the call id (twice, as go-micro sends it) and
    /// the stream id.
    static func replyHeaders(callID: String?, streamID: String?) -> Metadata {
        // Room for the ids and the content type or error, so the fields are allocated once.
        var headers = Metadata(capacity: 4)
        if let callID {
            headers.append(MicroHeader.id, callID)
            headers.append("X-Micro-Id", callID)
        }
        if let streamID {
            headers.append(MicroHeader.stream, streamID)
        }
        return headers
    }
}

/// The codecs of one call: the one that reads its requests (of the request's content
/// type) and the one that writes its answers (of the content type `Accept` names, else
/// the request's).
///
/// A class, made once per route and content type, so that a call copies one reference
/// instead of two codec existentials.
final class CallCodecs: Sendable {
    /// Reads the requests.
    let decoder: any Codec
    /// Writes the answers.
    let encoder: any Codec

    init(decoder: any Codec, encoder: any Codec) {
        self.decoder = decoder
        self.encoder = encoder
    }
}
