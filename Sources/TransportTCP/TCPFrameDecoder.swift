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
/// u8   kind           0 = message, 1 = end of stream (half close); others are errors
/// --- kind 0 (message) only ---
/// u16  header count
///      per header:    u16 name length, name (UTF-8), u32 value length, value (UTF-8)
///      body           the rest of the frame
/// ```
///
/// An end-of-stream frame is exactly 5 bytes long after the length field. Many streams
/// interleave on one connection; a stream's first frame opens it on the server.
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
        let length = size - 4
        buffer.moveReaderIndex(forwardBy: 4)
        guard var frame = buffer.readSlice(length: length),
            let (streamID, kindByte) = frame.readMultipleIntegers(as: (UInt32, UInt8).self)
        else {
            throw TCPFrameError("frame of \(length) bytes could not be read")
        }
        guard streamID != 0 else { throw TCPFrameError("frame for stream id 0, which is reserved") }
        switch TCPFrame.Kind(rawValue: kindByte) {
        case .end:
            guard frame.readableBytes == 0 else {
                throw TCPFrameError("end-of-stream frame for stream \(streamID) carries \(frame.readableBytes) extra bytes")
            }
            return TCPFrame(streamID: streamID, kind: .end, message: TransportMessage())
        case .message:
            guard let count = frame.readInteger(as: UInt16.self) else {
                throw TCPFrameError("message frame for stream \(streamID) has no header count")
            }
            let headers = try readHeaders(Int(count), from: &frame, streamID: streamID)
            return TCPFrame(streamID: streamID, kind: .message, message: TransportMessage(headers: headers, body: frame))
        case nil:
            throw TCPFrameError("unknown frame kind \(kindByte) on stream \(streamID)")
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

    /// Reads `count` headers from the front of `frame`, in one pass over its bytes.
    private static func readHeaders(
        _ count: Int, from frame: inout ByteBuffer, streamID: UInt32
    ) throws(TCPFrameError) -> Metadata {
        let result = frame.withUnsafeReadableBytes { bytes -> Result<(Metadata, Int), TCPFrameError> in
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
        let (headers, consumed) = try result.get()
        frame.moveReaderIndex(forwardBy: consumed)
        return headers
    }
}
