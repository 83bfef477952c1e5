import MicroCore
import NIOCore

/// Splits a TCP byte stream into ``TCPFrame``s.
///
/// ## Frame format
///
/// All integers are unsigned and big-endian (network order).
///
/// ```
/// u32  length         bytes that follow this field (5 ... maxFrameSize)
/// u32  stream id      chosen by the client, never 0
/// u8   kind           0 = message, 1 = end of stream (half close), 2 = reset; others
///                     are errors
/// --- kind 0 (message) only ---
/// u16  header count
///      per header:    u16 name length, name (UTF-8), u32 value length, value (UTF-8)
///      body           the rest of the frame
/// --- kind 2 (reset) only ---
/// u32  error code     why the sender abandoned the stream: 408 its deadline passed,
///                     499 it gave up (cancelled); other codes are accepted as is
/// ```
///
/// An end-of-stream frame is exactly 5 bytes long after the length field, a reset frame
/// exactly 9. Many streams interleave on one connection; a stream's first message or end
/// frame opens it on the server, and a reset for a stream the receiver does not know
/// (it has already released it) is ignored.
///
/// Every length is checked before anything is read or allocated: the frame length
/// against `maxFrameSize` as soon as its 4 bytes are in, each header length against the
/// bytes left in its frame. A violation throws ``TCPFrameError``; the connection handler
/// then logs the reason and closes the connection. Header and body bytes are not
/// copied: the body is a slice of the receive buffer.
///
/// ``TCPConnectionHandler`` runs the decoder on the bytes it receives.
enum TCPFrameDecoder {
    /// Decodes one frame from the front of `buffer`, or returns `nil` when it is not all there.
    ///
    /// - Throws: ``TCPFrameError`` for a frame that breaks the format.
    static func decodeFrame(from buffer: inout ByteBuffer, maxFrameSize: Int) throws(TCPFrameError) -> TCPFrame? {
        guard let size = try frameSize(of: buffer, maxFrameSize: maxFrameSize), buffer.readableBytes >= size else { return nil }
        // The head and the headers in one pass over the frame's bytes; the body is then
        // sliced off the buffer.
        let head = buffer.withUnsafeReadableBytes { bytes in
            readHead(UnsafeRawBufferPointer(rebasing: bytes[4..<size]))
        }
        let (streamID, kind, headers, headLength) = try head.get()
        defer { buffer.moveReaderIndex(forwardBy: size) }
        guard kind == .message else {
            // A reset's code is the frame's last 4 bytes (its length was checked).
            let code = kind == .reset ? buffer.getInteger(at: buffer.readerIndex + 4 + TCPFrame.headLength, as: UInt32.self)! : 0
            return TCPFrame(streamID: streamID, kind: kind, message: TransportMessage(), resetCode: code)
        }
        // Within the frame, whose bytes are all there: the slice always exists.
        let body = buffer.getSlice(at: buffer.readerIndex + 4 + headLength, length: size - 4 - headLength)!
        return TCPFrame(streamID: streamID, kind: kind, message: TransportMessage(headers: headers, body: body))
    }

    /// Reads a frame's stream id, kind and headers from `frame` (the bytes after its
    /// length field); returns them with the number of bytes they took.
    private static func readHead(
        _ frame: UnsafeRawBufferPointer
    ) -> Result<(streamID: UInt32, kind: TCPFrame.Kind, headers: Metadata, length: Int), TCPFrameError> {
        // `frameSize` checked that the frame holds at least its head.
        let streamID = UInt32(bigEndian: frame.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let kindByte = frame[4]
        guard streamID != 0 else { return .failure(TCPFrameError("frame for stream id 0, which is reserved")) }
        switch TCPFrame.Kind(rawValue: kindByte) {
        case .end:
            guard frame.count == TCPFrame.headLength else {
                return .failure(TCPFrameError(
                    "end-of-stream frame for stream \(streamID) carries \(frame.count - TCPFrame.headLength) extra bytes"))
            }
            return .success((streamID, .end, Metadata(), TCPFrame.headLength))
        case .reset:
            guard frame.count == TCPFrame.resetLength else {
                return .failure(TCPFrameError(
                    "reset frame for stream \(streamID) is \(frame.count) bytes long; expected \(TCPFrame.resetLength)"))
            }
            return .success((streamID, .reset, Metadata(), TCPFrame.resetLength))
        case .message:
            guard frame.count >= TCPFrame.messageHeadLength else {
                return .failure(TCPFrameError("message frame for stream \(streamID) has no header count"))
            }
            let count = Int(UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: TCPFrame.headLength, as: UInt16.self)))
            let start = TCPFrame.messageHeadLength
            return readHeaders(count, from: UnsafeRawBufferPointer(rebasing: frame[start...]), streamID: streamID).map {
                (streamID, .message, $0.headers, start + $0.length)
            }
        case nil:
            return .failure(TCPFrameError("unknown frame kind \(kindByte) on stream \(streamID)"))
        }
    }

    /// The size of the frame at the front of `buffer`, its length field included, or `nil`
    /// while the length field is not all there.
    ///
    /// - Throws: ``TCPFrameError`` when the length is above `maxFrameSize` or shorter than
    ///   a frame head.
    @inline(__always)
    static func frameSize(of buffer: ByteBuffer, maxFrameSize: Int) throws(TCPFrameError) -> Int? {
        guard let length32 = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let length = Int(length32)
        guard length <= maxFrameSize else {
            throw TCPFrameError("frame length \(length) exceeds the maximum of \(maxFrameSize) (tcp_max_frame_size)")
        }
        guard length >= TCPFrame.headLength else {
            throw TCPFrameError("frame length \(length) is shorter than the \(TCPFrame.headLength)-byte frame head")
        }
        return 4 + length
    }

    /// Reads `count` headers from the front of `bytes`; returns them with the number of
    /// bytes they took.
    private static func readHeaders(
        _ count: Int, from bytes: UnsafeRawBufferPointer, streamID: UInt32
    ) -> Result<(headers: Metadata, length: Int), TCPFrameError> {
        // Room for the usual handful of headers up front; a frame claiming thousands
        // grows the storage only as they actually arrive.
        var headers = Metadata(capacity: min(count, 16))
        var offset = 0
        for index in 0..<count {
            guard bytes.count - offset >= 2 else {
                return .failure(TCPFrameError(
                    "header \(index) of \(count) on stream \(streamID) is cut off before its name length"))
            }
            let nameLength = Int(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            offset += 2
            guard nameLength <= bytes.count - offset else {
                return .failure(TCPFrameError(
                    "header \(index) on stream \(streamID) claims a \(nameLength)-byte name; \(bytes.count - offset) bytes are left in the frame"))
            }
            let name = TCPHeaderStrings.name(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + nameLength)]))
            offset += nameLength
            guard bytes.count - offset >= 4 else {
                return .failure(TCPFrameError(
                    "header \(index) (\(name)) on stream \(streamID) is cut off before its value length"))
            }
            let valueLength = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
            guard valueLength <= bytes.count - offset else {
                return .failure(TCPFrameError(
                    "header \(index) (\(name)) on stream \(streamID) claims a \(valueLength)-byte value; \(bytes.count - offset) bytes are left in the frame"))
            }
            let value = TCPHeaderStrings.value(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + valueLength)]))
            offset += valueLength
            headers.append(name, value)
        }
        return .success((headers, offset))
    }
}
