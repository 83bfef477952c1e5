#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one error type that crosses the wire, shaped like go-micro's `errors.Error`.
///
/// A handler that throws a `MicroError` has it delivered to the caller with the same
/// `id`, `code` and `detail`. On the wire it travels as JSON in the `Micro-Error` header:
/// `{"id":"greeter","code":404,"detail":"…","status":"Not Found"}`, with empty fields
/// left out, exactly as go-micro writes it.
public struct MicroError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Who raised the error, usually the service name. May be empty.
    public var id: String
    /// An HTTP-like status code: 400, 401, 403, 404, 408, 409, 500, 503, …
    public var code: Int32
    /// A human-readable explanation of what went wrong.
    public var detail: String
    /// The HTTP status text of `code`, such as `"Not Found"`.
    public var status: String

    /// Creates an error; `status` defaults to the HTTP status text of `code`.
    public init(id: String = "", code: Int32, detail: String, status: String? = nil) {
        self.id = id
        self.code = code
        self.detail = detail
        self.status = status ?? MicroError.statusText(for: code)
    }

    /// 400: the request was malformed.
    public static func badRequest(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 400, detail: detail)
    }
    /// 401: the caller is not authenticated.
    public static func unauthorized(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 401, detail: detail)
    }
    /// 403: the caller may not do this.
    public static func forbidden(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 403, detail: detail)
    }
    /// 404: no such service, endpoint or resource.
    public static func notFound(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 404, detail: detail)
    }
    /// 408: the deadline passed before an answer came.
    public static func timeout(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 408, detail: detail)
    }
    /// 409: the request conflicts with the current state.
    public static func conflict(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 409, detail: detail)
    }
    /// 500: the server failed.
    public static func internalServerError(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 500, detail: detail)
    }
    /// 503: the service is (temporarily) unavailable.
    public static func serviceUnavailable(_ detail: String, id: String = "") -> MicroError {
        MicroError(id: id, code: 503, detail: detail)
    }

    /// The `id` of ``nodeDraining(_:)``.
    public static let drainingID = "micro.server.draining"

    /// 503 with id ``drainingID``: the node is shutting down and refused the call before
    /// any handler ran, so the call is safe to send to another node. The client does so
    /// whatever its retry settings, and its selector avoids the node meanwhile.
    public static func nodeDraining(_ service: String) -> MicroError {
        MicroError(id: drainingID, code: 503, detail: "service \(service): this node is shutting down; call another node")
    }

    /// Whether this is the refusal of a draining node (``nodeDraining(_:)``).
    public var isNodeDraining: Bool {
        code == 503 && id == MicroError.drainingID
    }

    /// A readable one-line form: `404 Not Found: service greeter not found (id greeter)`.
    public var description: String {
        var text = "\(code) \(status): \(detail)"
        if !id.isEmpty { text += " (id \(id))" }
        return text
    }

    /// The JSON text go-micro puts in `Micro-Error`, with empty fields left out.
    public var json: String {
        let data = (try? MicroError.encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads the text of a `Micro-Error` header.
    ///
    /// go-micro's JSON form is decoded; anything else (a Go router error such as
    /// `rpc: can't find service X`) becomes a 500 error carrying the text as `detail`,
    /// as go-micro's `errors.Parse` does.
    public static func parse(_ text: String) -> MicroError {
        if let error = try? JSONDecoder().decode(MicroError.self, from: Data(text.utf8)) {
            return error
        }
        return MicroError(code: 500, detail: text)
    }

    private static let encoder = JSONEncoder()

    private enum CodingKeys: String, CodingKey {
        case id, code, detail, status
    }

    /// Decodes go-micro's JSON, where every field may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        code = try container.decodeIfPresent(Int32.self, forKey: .code) ?? 0
        detail = try container.decodeIfPresent(String.self, forKey: .detail) ?? ""
        status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
    }

    /// Encodes like Go's `omitempty`: empty strings and a zero code are left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if !id.isEmpty { try container.encode(id, forKey: .id) }
        if code != 0 { try container.encode(code, forKey: .code) }
        if !detail.isEmpty { try container.encode(detail, forKey: .detail) }
        if !status.isEmpty { try container.encode(status, forKey: .status) }
    }

    /// The HTTP status text for `code`, as Go's `http.StatusText` gives it.
    public static func statusText(for code: Int32) -> String {
        switch code {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Request Entity Too Large"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }
}
