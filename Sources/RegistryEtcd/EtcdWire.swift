#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The JSON messages of etcd v3's HTTP gateway (`/v3/…`), as far as the registry uses
/// them.
///
/// The gateway writes protobuf's JSON mapping: keys and values base64 (`Data`), 64-bit
/// integers as strings, fields with zero values left out. It accepts integers as
/// strings or numbers.
enum EtcdWire {
    /// A 64-bit integer that the gateway writes as a string and that may be absent.
    struct Int64Text: Codable, Sendable, Hashable {
        var value: Int64

        init(_ value: Int64) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self), let number = Int64(text) {
                value = number
            } else {
                value = try container.decode(Int64.self)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(String(value))
        }
    }

    /// Every response's `header`.
    struct ResponseHeader: Decodable, Sendable {
        var revision: Int64Text?
    }

    /// A stored key with its value and revisions.
    struct KeyValue: Decodable, Sendable {
        var key: Data
        var value: Data?
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
        var lease: Int64Text?

        var modRevision: Int64 { mod_revision?.value ?? 0 }
        var createRevision: Int64 { create_revision?.value ?? 0 }
    }

    /// `POST /v3/kv/range`.
    struct RangeRequest: Encodable, Sendable {
        var key: Data
        var range_end: Data?
        var count_only: Bool?
    }

    /// The answer to a range.
    struct RangeResponse: Decodable, Sendable {
        var header: ResponseHeader?
        var kvs: [KeyValue]?
    }

    /// `POST /v3/kv/put`.
    struct PutRequest: Encodable, Sendable {
        var key: Data
        var value: Data
        var lease: Int64Text?
    }

    /// `POST /v3/kv/deleterange`.
    struct DeleteRangeRequest: Encodable, Sendable {
        var key: Data
        var range_end: Data?
    }

    /// `POST /v3/lease/grant`.
    struct LeaseGrantRequest: Encodable, Sendable {
        var TTL: Int64Text
        var ID: Int64Text = Int64Text(0)
    }

    /// The answer to a grant.
    struct LeaseGrantResponse: Decodable, Sendable {
        var ID: Int64Text?
        var TTL: Int64Text?
        var error: String?
    }

    /// `POST /v3/lease/keepalive` (one request on the gateway's stream).
    struct LeaseKeepAliveRequest: Encodable, Sendable {
        var ID: Int64Text
    }

    /// One message of the keep-alive stream.
    struct LeaseKeepAliveMessage: Decodable, Sendable {
        struct Result: Decodable, Sendable {
            var ID: Int64Text?
            var TTL: Int64Text?
        }
        var result: Result?
        var error: GatewayError?
    }

    /// `POST /v3/auth/authenticate`.
    struct AuthenticateRequest: Encodable, Sendable {
        var name: String
        var password: String
    }

    /// The answer to authenticate.
    struct AuthenticateResponse: Decodable, Sendable {
        var token: String?
    }

    /// `POST /v3/watch`: the one create request this registry sends.
    struct WatchRequest: Encodable, Sendable {
        struct Create: Encodable, Sendable {
            var key: Data
            var range_end: Data
            var start_revision: Int64Text
            var prev_kv: Bool
        }
        var create_request: Create
    }

    /// One line of the watch stream: `{"result":{…}}` or `{"error":{…}}`.
    struct WatchMessage: Decodable, Sendable {
        var result: WatchResponse?
        var error: GatewayError?
    }

    /// A watch response: created, canceled, compacted, or events.
    struct WatchResponse: Decodable, Sendable {
        var header: ResponseHeader?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: Int64Text?
        var cancel_reason: String?
        var events: [Event]?
    }

    /// One change: a PUT carries no `type` (protobuf leaves the zero value out); a
    /// DELETE says `"type":"DELETE"`.
    struct Event: Decodable, Sendable {
        var type: String?
        var kv: KeyValue?
        var prev_kv: KeyValue?

        var isDelete: Bool { type == "DELETE" }
    }

    /// An error answer: `{"error":"…","code":3,"message":"…"}` for unary calls, or
    /// `{"grpc_code":…,"http_code":…,"message":…}` inside a stream's `error`.
    struct GatewayError: Decodable, Sendable, Error {
        var message: String
        var grpcCode: Int?

        private enum CodingKeys: String, CodingKey {
            case error, message, code, grpc_code
        }

        init(message: String, grpcCode: Int?) {
            self.message = message
            self.grpcCode = grpcCode
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let message = try? container.decodeIfPresent(String.self, forKey: .message)
            let error = try? container.decodeIfPresent(String.self, forKey: .error)
            self.message = message ?? error ?? ""
            grpcCode = (try? container.decodeIfPresent(Int.self, forKey: .code)) ?? (try? container.decodeIfPresent(Int.self, forKey: .grpc_code)) ?? nil
        }
    }

    /// The end of the range that covers every key starting with `prefix`: the prefix
    /// with its last byte incremented (bytes of 0xff dropped first).
    static func prefixEnd(_ prefix: Data) -> Data {
        var bytes = [UInt8](prefix)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])
    }
}
