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

    @Test("a reset frame is 9 bytes after its length: stream id, kind 2, and its code")
    func resetFrame() throws {
        var bytes = TCPFrameEncoder.encodeReset(streamID: 0x0102_0304, code: .deadlineExceeded)
        #expect(Array(bytes.readableBytesView) == [0, 0, 0, 9, 1, 2, 3, 4, 2, 0, 0, 0x01, 0x98])
        var cancelled = TCPFrameEncoder.encodeReset(streamID: 5, code: .cancelled)
        bytes.writeBuffer(&cancelled)
        // A code this side does not know is accepted as it is.
        bytes.writeBytes([0, 0, 0, 9, 0, 0, 0, 6, 2, 0, 0, 0, 42])
        let first = try #require(try TCPFrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1024))
        #expect(first.kind == .reset && first.streamID == 0x0102_0304 && first.resetCode == 408)
        let second = try #require(try TCPFrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1024))
        #expect(second.kind == .reset && second.streamID == 5 && second.resetCode == 499)
        let third = try #require(try TCPFrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 1024))
        #expect(third.resetCode == 42)
        #expect(TCPFrame.ResetCode.describe(42) == "code 42")
        #expect(TCPFrame.ResetCode.describe(408).contains("deadline"))
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
        ([0, 0, 0, 8, 0, 0, 0, 1, 2, 0, 1, 0xF3], "reset frame for stream 1 is 8 bytes long; expected 9"),
        ([0, 0, 0, 10, 0, 0, 0, 1, 2, 0, 0, 1, 0xF3, 0], "reset frame for stream 1 is 10 bytes long"),
        ([0, 0, 0, 9, 0, 0, 0, 0, 2, 0, 0, 1, 0xF3], "stream id 0"),
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
