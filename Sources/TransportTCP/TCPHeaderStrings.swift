#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MicroCore
import NIOCore

/// Header names and values that most frames carry, shared instead of created per frame.
///
/// Decoding a header makes two `String`s; for the protocol's own names and the common
/// content types the decoder instead returns a constant when the bytes match it exactly,
/// which saves the UTF-8 validation and, for strings longer than 15 bytes, an allocation.
/// Any other bytes are decoded as usual, so the result is always the same string.
enum TCPHeaderStrings {
    /// The header name spelled by `bytes`.
    @inline(__always)
    static func name(_ bytes: UnsafeRawBufferPointer) -> String {
        sharedName(bytes) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// The header value spelled by `bytes`.
    @inline(__always)
    static func value(_ bytes: UnsafeRawBufferPointer) -> String {
        sharedValue(bytes) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// The protocol header name spelled by `bytes`, if it is one.
    private static func sharedName(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch bytes.count {
        case 6: return equal(bytes, "Accept") ? MicroHeader.accept : nil
        case 7: return equal(bytes, "Timeout") ? MicroHeader.timeout : nil
        case 8: return equal(bytes, "Micro-Id") ? MicroHeader.id : nil
        case 10: return equal(bytes, "X-Micro-Id") ? "X-Micro-Id" : nil
        case 11:
            if equal(bytes, "Micro-Error") { return MicroHeader.error }
            return equal(bytes, "Micro-Topic") ? MicroHeader.topic : nil
        case 12:
            if equal(bytes, "Content-Type") { return MicroHeader.contentType }
            if equal(bytes, "Micro-Method") { return MicroHeader.method }
            return equal(bytes, "Micro-Stream") ? MicroHeader.stream : nil
        case 13: return equal(bytes, "Micro-Service") ? MicroHeader.service : nil
        case 14: return equal(bytes, "Micro-Endpoint") ? MicroHeader.endpoint : nil
        default: return nil
        }
    }

    /// The common header value spelled by `bytes`: a content type or `EOS`.
    private static func sharedValue(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch bytes.count {
        case 3: return equal(bytes, "EOS") ? MicroHeader.endOfStream : nil
        case 16: return equal(bytes, "application/json") ? "application/json" : nil
        case 20: return equal(bytes, "application/protobuf") ? "application/protobuf" : nil
        case 24: return equal(bytes, "application/octet-stream") ? "application/octet-stream" : nil
        default: return nil
        }
    }

    /// Whether `bytes` are exactly `text`'s UTF-8 (the caller checked the length).
    @inline(__always)
    private static func equal(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0
    }
}
