import MicroCore
import NIOCore
import Testing

@testable import TransportTCP

@Suite("TCPFrameDecoder")
struct TCPFrameDecoderTests {
    @Test("encode then decode gives the same frame; partial input waits")
    func roundTrip() throws {
        let message = TransportMessage(headers: ["Micro-Id": "42", "Empty": ""], body: ByteBuffer(string: "payload"))
        let (head, body) = try TCPFrameEncoder.encodeMessage(message, streamID: 9, maxFrameSize: 1024)
        #expect(body == nil)
        var bytes = head
        var endBytes = TCPFrameEncoder.encodeEnd(streamID: 9)
        bytes.writeBuffer(&endBytes)
        let all = bytes
        // Every strict prefix of the first frame is "not yet".
        let firstLength = head.readableBytes
        for cut in 0..<firstLength {
            var partial = all.getSlice(at: all.readerIndex, length: cut) ?? ByteBuffer()
            #expect(try TCPFrameDecoder.decodeFrame(from: &partial, maxFrameSize: 1024) == nil)
        }
        let frame = try #require(try TCPFrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1024))
        #expect(frame.streamID == 9)
        #expect(frame.kind == .message)
        #expect(Array(frame.message.headers) == Array(message.headers))
        #expect(frame.message.body.text == "payload")
        let end = try #require(try TCPFrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1024))
        #expect(end.kind == .end)
        #expect(end.streamID == 9)
        #expect(bytes.readableBytes == 0)
    }

    @Test("a large body is written as its own buffer")
    func largeBodySeparate() throws {
        let message = TransportMessage(body: ByteBuffer(repeating: 7, count: 100_000))
        let (head, body) = try TCPFrameEncoder.encodeMessage(message, streamID: 1, maxFrameSize: 1 << 20)
        #expect(head.readableBytes == 4 + 7)
        #expect(body?.readableBytes == 100_000)
        let length = try #require(head.getInteger(at: head.readerIndex, as: UInt32.self))
        #expect(length == UInt32(7 + 100_000))
    }

    @Test("malformed frames are rejected", arguments: [
        ([0, 0, 0, 3, 0, 0, 0], "shorter than"),
        ([0xFF, 0xFF, 0xFF, 0xFF], "exceeds the maximum"),
        ([0, 0, 0, 5, 0, 0, 0, 1, 9], "unknown frame kind"),
        ([0, 0, 0, 6, 0, 0, 0, 1, 1, 0], "extra bytes"),
        ([0, 0, 0, 5, 0, 0, 0, 1, 0], "no header count"),
        ([0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 1, 0], "cut off before its name length"),
        ([0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 1, 0, 3, 0x41], "claims a 3-byte name"),
        ([0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0x41, 0, 0, 0, 9], "claims a 9-byte value"),
        ([0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0x41, 0, 0], "cut off before its value length"),
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], reason: String) {
        var buffer = ByteBuffer(bytes: bytes)
        do {
            _ = try TCPFrameDecoder.decodeFrame(from: &buffer, maxFrameSize: 4096)
            Issue.record("accepted \(bytes)")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test("sending over the maximum throws messageTooLarge")
    func encodeTooLarge() {
        let message = TransportMessage(body: ByteBuffer(repeating: 0, count: 100))
        do {
            _ = try TCPFrameEncoder.encodeMessage(message, streamID: 1, maxFrameSize: 64)
            Issue.record("encoded a frame over the maximum")
        } catch {
            #expect(error.code == .messageTooLarge)
        }
    }
}
