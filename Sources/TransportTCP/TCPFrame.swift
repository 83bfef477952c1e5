import MicroCore
import NIOCore

/// One decoded frame: a stream id, what the frame does, and for message frames the message.
///
/// See ``TCPFrameDecoder`` for the byte layout.
struct TCPFrame: Sendable {
    /// What a frame does to its stream.
    enum Kind: UInt8, Sendable {
        /// Carries one ``TransportMessage``.
        case message = 0
        /// The sender sends no more on this stream (half close); no payload.
        case end = 1
        /// The sender abandoned the stream (both directions); a `u32` ``ResetCode``.
        case reset = 2
    }

    /// Why a stream was reset: an HTTP-like status, as ``MicroCore/MicroError`` codes are.
    enum ResetCode: UInt32, Sendable {
        /// The sender's deadline passed (a receive with a deadline gave up).
        case deadlineExceeded = 408
        /// The sender gave up: its task was cancelled, or it called
        /// ``MicroCore/TransportStream/reset()``.
        case cancelled = 499

        /// What a reset with `code` means, for errors; codes this side does not know are
        /// shown as numbers.
        static func describe(_ code: UInt32) -> String {
            switch ResetCode(rawValue: code) {
            case .deadlineExceeded: "its deadline passed (code 408)"
            case .cancelled: "it gave up (code 499)"
            case nil: "code \(code)"
            }
        }
    }

    /// The stream the frame belongs to; chosen by the client, never 0.
    var streamID: UInt32
    /// What the frame does.
    var kind: Kind
    /// The message of a `.message` frame; empty for the others.
    var message: TransportMessage
    /// The ``ResetCode`` raw value of a `.reset` frame (any number is accepted); 0 for
    /// the others.
    var resetCode: UInt32 = 0

    /// Bytes of a frame after the length prefix and before the payload: stream id and kind.
    static let headLength = 5
    /// Bytes of a message frame after the length prefix that are not headers or body.
    static let messageHeadLength = 7
    /// Bytes of a reset frame after the length prefix: the head and the code.
    static let resetLength = 9
}

/// Encodes frames into bytes, off the event loop, in the callers' tasks.
enum TCPFrameEncoder {
    /// Bodies larger than this are written as their own buffer (no copy, one more iovec).
    static let inlineBodyLimit = 8 * 1024

    private static let allocator = ByteBufferAllocator()

    /// Encodes a message frame, followed by an end-of-stream frame when `endOfStream` is
    /// set and the body is small enough to be inline.
    ///
    /// - Returns: the frame head (with the body appended when it is small) and, for a large
    ///   body, the body itself to be written right after the head. The end-of-stream
    ///   frame is in the head exactly when `endOfStream` is set and `body` is `nil`.
    /// - Throws: ``TransportError/Code/messageTooLarge`` when the frame would exceed
    ///   `maxFrameSize` or a header does not fit its length field.
    static func encodeMessage(
        _ message: TransportMessage, streamID: UInt32, maxFrameSize: Int, endOfStream: Bool = false
    ) throws(TransportError) -> (head: ByteBuffer, body: ByteBuffer?) {
        guard message.headers.count <= Int(UInt16.max) else {
            throw TransportError(.messageTooLarge, "a message carries \(message.headers.count) headers; at most \(UInt16.max) fit a frame")
        }
        var headersLength = 0
        for field in message.headers {
            let nameLength = field.name.utf8.count
            let valueLength = field.value.utf8.count
            guard nameLength <= Int(UInt16.max) else {
                throw TransportError(.messageTooLarge, "header name of \(nameLength) bytes; at most \(UInt16.max) fit a frame")
            }
            headersLength += 6 + nameLength + valueLength
        }
        let bodyLength = message.body.readableBytes
        let frameLength = TCPFrame.messageHeadLength + headersLength + bodyLength
        guard frameLength <= maxFrameSize else {
            throw TransportError(
                .messageTooLarge,
                "a frame of \(frameLength) bytes exceeds the maximum of \(maxFrameSize) (tcp_max_frame_size)")
        }
        let inline = bodyLength <= inlineBodyLimit
        let endLength = inline && endOfStream ? 4 + TCPFrame.headLength : 0
        let headLength = 4 + TCPFrame.messageHeadLength + headersLength
        let writeLength = headLength + (inline ? bodyLength : 0) + endLength
        var head = allocator.buffer(capacity: writeLength)
        // The whole write in one pass over reserved bytes: `writeInteger`, `writeString`
        // and `writeBuffer` would each check the capacity and the storage's uniqueness.
        head.writeWithUnsafeMutableBytes(minimumWritableBytes: writeLength) { out in
            var offset = put(UInt32(truncatingIfNeeded: frameLength), into: out, at: 0)
            offset = put(streamID, into: out, at: offset)
            offset = put(TCPFrame.Kind.message.rawValue, into: out, at: offset)
            offset = put(UInt16(truncatingIfNeeded: message.headers.count), into: out, at: offset)
            for field in message.headers {
                offset = put(field.name, lengthAs: UInt16.self, into: out, at: offset)
                offset = put(field.value, lengthAs: UInt32.self, into: out, at: offset)
            }
            guard inline else { return offset }
            message.body.withUnsafeReadableBytes { body in
                if let source = body.baseAddress, body.count > 0 {
                    (out.baseAddress! + offset).copyMemory(from: source, byteCount: body.count)
                }
            }
            offset += bodyLength
            if endOfStream { offset = putEnd(streamID: streamID, into: out, at: offset) }
            return offset
        }
        return (head, inline ? nil : message.body)
    }

    /// Stores `value` big-endian at `offset` of `out`; returns the offset after it.
    @inline(__always)
    private static func put<Value: FixedWidthInteger>(
        _ value: Value, into out: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int {
        out.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Value.self)
        return offset + MemoryLayout<Value>.size
    }

    /// Stores an end-of-stream frame at `offset` of `out`; returns the offset after it.
    @inline(__always)
    private static func putEnd(streamID: UInt32, into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var offset = put(UInt32(TCPFrame.headLength), into: out, at: offset)
        offset = put(streamID, into: out, at: offset)
        return put(TCPFrame.Kind.end.rawValue, into: out, at: offset)
    }

    /// Stores `string`'s length as a big-endian `Length`, then its UTF-8, at `offset` of
    /// `out` (which has room for both); returns the offset after them.
    @inline(__always)
    private static func put<Length: FixedWidthInteger>(
        _ string: String, lengthAs: Length.Type, into out: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int {
        let utf8 = string.utf8
        out.storeBytes(of: Length(truncatingIfNeeded: utf8.count).bigEndian, toByteOffset: offset, as: Length.self)
        var offset = offset + MemoryLayout<Length>.size
        let copied = utf8.withContiguousStorageIfAvailable { bytes -> Int in
            if let source = bytes.baseAddress, bytes.count > 0 {
                (out.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count)
            }
            return bytes.count
        }
        if let copied { return offset + copied }
        for byte in utf8 {
            out[offset] = byte
            offset += 1
        }
        return offset
    }

    /// Encodes a reset frame.
    static func encodeReset(streamID: UInt32, code: TCPFrame.ResetCode) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4 + TCPFrame.resetLength)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + TCPFrame.resetLength) { out in
            var offset = put(UInt32(TCPFrame.resetLength), into: out, at: 0)
            offset = put(streamID, into: out, at: offset)
            offset = put(TCPFrame.Kind.reset.rawValue, into: out, at: offset)
            return put(code.rawValue, into: out, at: offset)
        }
        return buffer
    }

    /// Encodes an end-of-stream frame.
    static func encodeEnd(streamID: UInt32) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4 + TCPFrame.headLength)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + TCPFrame.headLength) { out in
            putEnd(streamID: streamID, into: out, at: 0)
        }
        return buffer
    }
}
