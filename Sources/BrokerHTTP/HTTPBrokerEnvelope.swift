#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroCore
import NIOCore

/// go-micro's broker message on the wire: the JSON of Go's `broker.Message{Header
/// map[string]string, Body []byte}`, which has no JSON tags, so its keys are `Header` and
/// `Body`, and `Body` is base64.
///
/// Written as Go's `json.Encoder` writes it: `Header` first with its keys sorted, Go's
/// string escaping (`<`, `>`, `&`, U+2028 and U+2029 as `\u…`), standard base64 with
/// padding, and a trailing newline.
struct HTTPBrokerEnvelope {
    /// The message's headers, including `Micro-Topic`.
    var headers: Metadata
    /// The message's body.
    var body: ByteBuffer

    /// A message to send.
    init(headers: Metadata, body: ByteBuffer) {
        self.headers = headers
        self.body = body
    }

    /// Why a request body is not an envelope; the text is sent back with the 400.
    struct DecodingError: Error, CustomStringConvertible {
        var description: String
    }

    /// The JSON bytes.
    func encoded() -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes * 4 / 3 + 64 + headers.count * 32)
        out.writeString("{\"Header\":{")
        var first = true
        // Go sorts map keys (byte order); a name given twice keeps its first value.
        var seen = Set<String>()
        for field in headers.sorted(by: { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) })
        where seen.insert(field.name).inserted {
            if !first { out.writeString(",") }
            first = false
            HTTPBrokerEnvelope.writeJSONString(field.name, to: &out)
            out.writeString(":")
            HTTPBrokerEnvelope.writeJSONString(field.value, to: &out)
        }
        out.writeString("},\"Body\":\"")
        out.writeString(Data(body.readableBytesView).base64EncodedString())
        out.writeString("\"}\n")
        return out
    }

    /// Writes `text` as a JSON string the way Go's `encoding/json` does.
    static func writeJSONString(_ text: String, to out: inout ByteBuffer) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.writeInteger(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.writeString("\\\"")
            case 0x5C: out.writeString("\\\\")
            case 0x0A: out.writeString("\\n")
            case 0x0D: out.writeString("\\r")
            case 0x09: out.writeString("\\t")
            case 0x00..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029:
                let value = scalar.value
                out.writeString("\\u")
                for shift in stride(from: 12, through: 0, by: -4) {
                    out.writeInteger(hex[Int((value >> UInt32(shift)) & 0xF)])
                }
            default:
                out.writeString(String(scalar))
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }

    /// Decodes a request body.
    ///
    /// - Throws: ``DecodingError`` saying what is wrong: not JSON, not an object with a
    ///   string map `Header` and a string `Body`, or `Body` not base64.
    init(decoding bytes: ByteBuffer) throws(DecodingError) {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes.readableBytesView))
        } catch let error as Swift.DecodingError {
            throw DecodingError(description: "the body is not go-micro's broker message {\"Header\":{…},\"Body\":\"<base64>\"}: \(HTTPBrokerEnvelope.explain(error))")
        } catch {
            throw DecodingError(description: "the body is not JSON: \(error)")
        }
        var headers = Metadata()
        for (name, value) in (wire.Header ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.append(name, value)
        }
        var body = ByteBuffer()
        if let text = wire.Body, !text.isEmpty {
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError(description: "Body is not base64 (standard alphabet, padded)")
            }
            body.writeBytes(data)
        }
        self.headers = headers
        self.body = body
    }

    /// The JSON as Go writes it; `null` accepted for both fields.
    private struct Wire: Decodable {
        // swiftlint:disable identifier_name
        var Header: [String: String]?
        var Body: String?
        // swiftlint:enable identifier_name
    }

    private static func explain(_ error: Swift.DecodingError) -> String {
        func path(_ context: Swift.DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .dataCorrupted(let context): return "not valid JSON\(path(context))"
        case .keyNotFound(let key, _): return "\(key.stringValue) is missing"
        case .typeMismatch(_, let context): return "wrong type\(path(context)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "a value is missing\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
