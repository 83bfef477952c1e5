public import MicroCore
import NIOCore

/// The behaviour every ``MicroCore/Codec`` must show, checked with two different sample
/// values of a type the codec handles, and with ``Unhandled``, a type no codec can know.
///
/// ```swift
/// @Test(arguments: CodecConformance.cases)
/// func codecConformance(_ check: CodecConformance.Case) async throws {
///     try await check.run(codec: JSONCodec(), sample: Hello(name: "a"), otherSample: Hello(name: "b"))
/// }
/// ```
public enum CodecConformance {
    /// One named check.
    public struct Case: Sendable, CustomStringConvertible {
        /// The check's name, such as `roundTrip`.
        public let name: String
        private let kind: Kind

        fileprivate enum Kind: Sendable {
            case roundTrip, encodingsDiffer, garbageThrows, emptyBufferDoesNotCrash, contentType, concurrentUse
            case declinesUnhandledTypes
        }

        fileprivate init(_ name: String, _ kind: Kind) {
            self.name = name
            self.kind = kind
        }

        /// The name.
        public var description: String { name }

        /// Runs the check with two samples that must encode differently.
        ///
        /// - Throws: ``ConformanceFailure`` naming the case and what differed.
        public func run<V: Equatable & Sendable>(codec: any Codec, sample: V, otherSample: V) async throws {
            let kind = self.kind
            try await runCase("CodecConformance", name) {
                switch kind {
                case .roundTrip: try CodecConformance.roundTrip(codec, sample, otherSample)
                case .encodingsDiffer: try CodecConformance.encodingsDiffer(codec, sample, otherSample)
                case .garbageThrows: try CodecConformance.garbageThrows(codec, V.self)
                case .emptyBufferDoesNotCrash: try CodecConformance.emptyBuffer(codec, V.self)
                case .contentType: try CodecConformance.contentType(codec)
                case .concurrentUse: try await CodecConformance.concurrentUse(codec, sample, otherSample)
                case .declinesUnhandledTypes: try CodecConformance.declinesUnhandledTypes(codec, sample)
                }
            }
        }
    }

    /// Every check.
    public static let cases: [Case] = [
        Case("roundTrip", .roundTrip),
        Case("encodingsDiffer", .encodingsDiffer),
        Case("garbageThrows", .garbageThrows),
        Case("emptyBufferDoesNotCrash", .emptyBufferDoesNotCrash),
        Case("contentType", .contentType),
        Case("concurrentUse", .concurrentUse),
        Case("declinesUnhandledTypes", .declinesUnhandledTypes),
    ]

    /// A type no codec can handle: neither `Codable` nor a protobuf message nor a
    /// `ByteBuffer`, and holding a closure that has no bytes. Every codec must decline it
    /// (``MicroCore/Codec/canEncode(_:)`` and ``MicroCore/Codec/canDecode(_:)`` answer
    /// `false`) and throw ``MicroCore/CodecError`` when asked to encode or decode it.
    public struct Unhandled: Sendable {
        /// Something with no bytes to encode.
        public let action: @Sendable () -> Void

        /// Creates a value.
        public init(action: @escaping @Sendable () -> Void = {}) {
            self.action = action
        }
    }

    static func roundTrip<V: Equatable>(_ codec: any Codec, _ sample: V, _ otherSample: V) throws {
        for (label, value) in [("sample", sample), ("otherSample", otherSample)] {
            let bytes = try codec.encode(value)
            let decoded = try codec.decode(V.self, from: bytes)
            try expect(decoded == value, "\(label) did not survive a round trip: encoded \(bytes.readableBytes) bytes, decoded \(decoded), expected \(value)")
        }
    }

    static func encodingsDiffer<V: Equatable>(_ codec: any Codec, _ sample: V, _ otherSample: V) throws {
        try expect(sample != otherSample, "sample and otherSample are equal; pass two different values")
        let first = try codec.encode(sample)
        let second = try codec.encode(otherSample)
        try expect(first != second, "sample and otherSample encode to the same \(first.readableBytes) bytes")
    }

    static func garbageThrows<V>(_ codec: any Codec, _ type: V.Type) throws {
        // Invalid as JSON and as protobuf (a varint longer than ten bytes).
        var garbage = ByteBuffer()
        garbage.writeBytes([UInt8](repeating: 0xFF, count: 16))
        garbage.writeBytes([0x00, 0x7B, 0x22])
        let value: V
        do {
            value = try codec.decode(V.self, from: garbage)
        } catch {
            return  // Expected: any error, ideally CodecError.
        }
        throw ConformanceFailure("decoding \(garbage.readableBytes) garbage bytes as \(V.self) succeeded with \(value); expected an error")
    }

    /// Decoding no bytes must not crash, and must not make a value up: it either throws
    /// (JSON has no empty document) or gives the value whose encoding is no bytes (a
    /// protobuf message with every field at its default).
    static func emptyBuffer<V>(_ codec: any Codec, _ type: V.Type) throws {
        let value: V
        do {
            value = try codec.decode(V.self, from: ByteBuffer())
        } catch {
            return
        }
        let encoded: ByteBuffer
        do {
            encoded = try codec.encode(value)
        } catch {
            throw ConformanceFailure("decoding an empty buffer as \(V.self) gave \(value), which does not encode again: \(error)")
        }
        try expect(
            encoded.readableBytes == 0,
            "decoding an empty buffer as \(V.self) gave \(value), which encodes to \(encoded.readableBytes) bytes "
                + "(\(String(buffer: encoded).prefix(80))); an empty buffer must throw or decode to the value that encodes to no bytes"
        )
    }

    /// A codec says it can handle the sample's type and cannot handle ``Unhandled``, so
    /// that the runtime passes that type to another codec of the same content type; and
    /// encoding or decoding ``Unhandled`` anyway throws ``MicroCore/CodecError``.
    static func declinesUnhandledTypes<V>(_ codec: any Codec, _ sample: V) throws {
        try expect(codec.canEncode(V.self), "canEncode(\(V.self)) is false, but the codec encodes the sample")
        try expect(codec.canDecode(V.self), "canDecode(\(V.self)) is false, but the codec decodes the sample")
        try expect(
            !codec.canEncode(Unhandled.self),
            "canEncode(Unhandled) is true for a type the codec cannot encode; a codec must decline it (answer false) "
                + "so that the runtime tries the next codec of \(codec.contentType)"
        )
        try expect(
            !codec.canDecode(Unhandled.self),
            "canDecode(Unhandled) is true for a type the codec cannot decode; a codec must decline it (answer false) "
                + "so that the runtime tries the next codec of \(codec.contentType)"
        )
        do {
            let bytes = try codec.encode(Unhandled())
            throw ConformanceFailure("encoding Unhandled succeeded with \(bytes.readableBytes) bytes; expected a CodecError")
        } catch is CodecError {
            // Expected.
        } catch let failure as ConformanceFailure {
            throw failure
        } catch {
            throw ConformanceFailure("encoding Unhandled threw \(type(of: error)) (\(error)); expected a CodecError")
        }
        let bytes = try codec.encode(sample)
        do {
            _ = try codec.decode(Unhandled.self, from: bytes)
            throw ConformanceFailure("decoding the sample's \(bytes.readableBytes) bytes as Unhandled succeeded; expected a CodecError")
        } catch is CodecError {
            // Expected.
        } catch let failure as ConformanceFailure {
            throw failure
        } catch {
            throw ConformanceFailure("decoding as Unhandled threw \(type(of: error)) (\(error)); expected a CodecError")
        }
    }

    static func contentType(_ codec: any Codec) throws {
        let type = codec.contentType
        try expect(!type.isEmpty, "contentType is empty")
        try expect(type.contains("/"), "contentType '\(type)' is not a media type (no '/')")
    }

    static func concurrentUse<V: Equatable & Sendable>(_ codec: any Codec, _ sample: V, _ otherSample: V) async throws {
        let failures = try await withTimeout(.seconds(10), "100 concurrent encode/decode tasks") {
            await withTaskGroup(of: String?.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let value = index.isMultiple(of: 2) ? sample : otherSample
                        do {
                            let decoded = try codec.decode(V.self, from: try codec.encode(value))
                            return decoded == value ? nil : "task \(index) decoded \(decoded)"
                        } catch {
                            return "task \(index) threw \(error)"
                        }
                    }
                }
                var failures: [String] = []
                for await failure in group {
                    if let failure { failures.append(failure) }
                }
                return failures
            }
        }
        try expect(failures.isEmpty, "\(failures.count) of 100 concurrent round trips disagreed: \(failures.prefix(3))")
    }
}
