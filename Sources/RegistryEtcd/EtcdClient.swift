import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import MicroCore
import NIOCore
import NIOFoundationCompat
import Synchronization

/// The HTTP side of ``EtcdRegistry``: sends JSON to etcd's gateway, trying the
/// endpoints in turn on connection failure, authenticating when credentials are set,
/// and turning failures into ``MicroCore/MicroError``s that name what was tried.
final class EtcdClient: Sendable {
    let endpoints: [EtcdEndpoint]
    let http: HTTPClient
    let timeout: Duration
    let credentials: (username: String, password: String)?
    let logger: Logger

    /// The index of the endpoint that answered last; requests start there.
    private let current = Mutex(0)
    /// The auth token, once authenticated.
    private let token = Mutex<String?>(nil)

    /// The largest answer read (a range over a big registry).
    static let maximumAnswer = 64 * 1024 * 1024

    /// The `id` of every error this client throws.
    static let errorID = "go.micro.registry"

    init(endpoints: [EtcdEndpoint], http: HTTPClient, timeout: Duration, username: String?, password: String?, logger: Logger) {
        self.endpoints = endpoints.isEmpty ? [EtcdEndpoint(host: "127.0.0.1")] : endpoints
        self.http = http
        self.timeout = timeout
        if let username, !username.isEmpty {
            credentials = (username, password ?? "")
        } else {
            credentials = nil
        }
        self.logger = logger
    }

    // MARK: calls

    /// Posts `body` to `path` and decodes the answer.
    func call<Body: Encodable & Sendable, Answer: Decodable>(
        _ path: String, _ body: Body, as answer: Answer.Type
    ) async throws -> Answer {
        let bytes = try await post(path, body)
        return try decode(answer, from: bytes, path: path)
    }

    /// Posts `body` to `path` and returns the whole answer of a 200 response.
    func post<Body: Encodable & Sendable>(_ path: String, _ body: Body) async throws -> ByteBuffer {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        return try await withEndpoints(path: path, deadline: deadline) { endpoint, token in
            let response = try await self.execute(path, body, endpoint: endpoint, token: token, deadline: deadline)
            let bytes = try await response.body.collect(upTo: Self.maximumAnswer)
            guard response.status == .ok else {
                throw self.answerError(status: response.status.code, bytes: bytes)
            }
            return bytes
        }
    }

    /// Opens a streaming POST (a watch): the 200 response whose body is still arriving.
    /// Connecting, authenticating and the status line must come within the timeout; the
    /// body then streams for as long as etcd keeps it open.
    func openStream<Body: Encodable & Sendable>(_ path: String, _ body: Body) async throws -> (EtcdEndpoint, HTTPClientResponse) {
        let connectBy = NIODeadline.now() + TimeAmount(timeout)
        return try await withEndpoints(path: path, deadline: connectBy) { endpoint, token in
            let response = try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
                group.addTask {
                    try await self.execute(path, body, endpoint: endpoint, token: token, deadline: .distantFuture)
                }
                group.addTask {
                    try await Task.sleep(for: self.timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw HTTPClientError.deadlineExceeded
                }
                return response
            }
            guard response.status == .ok else {
                let bytes = (try? await response.body.collect(upTo: Self.maximumAnswer)) ?? ByteBuffer()
                throw self.answerError(status: response.status.code, bytes: bytes)
            }
            return (endpoint, response)
        }
    }

    /// Decodes a JSON answer, or throws a 500 naming the path.
    func decode<Answer: Decodable>(_ type: Answer.Type, from bytes: ByteBuffer, path: String) throws -> Answer {
        do {
            return try JSONDecoder().decode(type, from: bytes)
        } catch {
            throw MicroError.internalServerError(
                "etcd's answer to \(path) is not what the gateway sends (\(error)): \(String(buffer: bytes).prefix(300))",
                id: Self.errorID
            )
        }
    }

    // MARK: endpoints and auth

    /// Forgets the auth token, so the next request authenticates again (a watch stream
    /// that etcd ended over an invalid token).
    func invalidateToken() {
        token.withLock { $0 = nil }
    }

    /// A connection-level failure: try the next endpoint.
    private struct Unreachable: Error {
        var reason: String
    }

    /// Runs `attempt` against each endpoint in turn, starting with the last that
    /// answered, until one answers; re-authenticates once on an invalid-token answer.
    private func withEndpoints<T: Sendable>(
        path: String, deadline: NIODeadline,
        _ attempt: @Sendable (EtcdEndpoint, String?) async throws -> T
    ) async throws -> T {
        let start = current.withLock { $0 }
        var failures: [String] = []
        for offset in 0..<endpoints.count {
            let index = (start + offset) % endpoints.count
            let endpoint = endpoints[index]
            if NIODeadline.now() >= deadline {
                failures.append("\(endpoint) (not tried: the \(timeout) timeout passed)")
                continue
            }
            do {
                var reauthenticated = false
                while true {
                    let token = try await self.token(endpoint: endpoint, deadline: deadline)
                    do {
                        let result = try await classify { try await attempt(endpoint, token) }
                        if offset != 0 {
                            current.withLock { $0 = index }
                            logger.info("etcd: switched endpoint", metadata: ["endpoint": "\(endpoint)"])
                        }
                        return result
                    } catch let error as EtcdAnswerError where error.isInvalidToken && credentials != nil && !reauthenticated {
                        reauthenticated = true
                        self.token.withLock { $0 = nil }
                        logger.debug("etcd: auth token rejected, authenticating again", metadata: ["endpoint": "\(endpoint)"])
                    }
                }
            } catch let failure as Unreachable {
                logger.debug("etcd: endpoint unreachable", metadata: ["endpoint": "\(endpoint)", "reason": "\(failure.reason)"])
                failures.append("\(endpoint) (\(failure.reason))")
            } catch let error as EtcdAnswerError {
                throw error.microError(path: path, endpoint: endpoint)
            }
        }
        throw MicroError.serviceUnavailable(
            "etcd is unreachable: tried \(failures.joined(separator: ", ")); start etcd or fix --registry_address",
            id: Self.errorID
        )
    }

    /// Runs `body`, turning connection failures, timeouts and etcd's "unavailable"
    /// answers into ``Unreachable`` and keeping cancellation and etcd's other answers as
    /// they are.
    private func classify<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as EtcdAnswerError {
            // "no leader", "leader changed", shutting down: another member may answer.
            if error.grpcCode == 14 { throw Unreachable(reason: "etcd unavailable: \(error.message)") }
            throw error
        } catch let error as MicroError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            if error is CancellationError { throw error }
            throw Unreachable(reason: Self.describe(error))
        }
    }

    /// The token to send, authenticating first when credentials are set and no token
    /// is held.
    private func token(endpoint: EtcdEndpoint, deadline: NIODeadline) async throws -> String? {
        guard let credentials else { return nil }
        if let token = token.withLock({ $0 }) { return token }
        let request = EtcdWire.AuthenticateRequest(name: credentials.username, password: credentials.password)
        let answer: EtcdWire.AuthenticateResponse = try await classify {
            let response = try await execute("/v3/auth/authenticate", request, endpoint: endpoint, token: nil, deadline: deadline)
            let bytes = try await response.body.collect(upTo: Self.maximumAnswer)
            guard response.status == .ok else { throw answerError(status: response.status.code, bytes: bytes) }
            return try decode(EtcdWire.AuthenticateResponse.self, from: bytes, path: "/v3/auth/authenticate")
        }
        guard let token = answer.token, !token.isEmpty else {
            throw MicroError.unauthorized("etcd at \(endpoint) gave no auth token for user '\(credentials.username)'", id: Self.errorID)
        }
        self.token.withLock { $0 = token }
        return token
    }

    /// Sends one POST.
    private func execute<Body: Encodable>(
        _ path: String, _ body: Body, endpoint: EtcdEndpoint, token: String?, deadline: NIODeadline
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: endpoint.url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: token) }
        let data = try JSONEncoder().encode(body)
        request.body = .bytes(ByteBuffer(data: data))
        return try await http.execute(request, deadline: deadline, logger: logger)
    }

    private func answerError(status: UInt, bytes: ByteBuffer) -> EtcdAnswerError {
        let parsed = try? JSONDecoder().decode(EtcdWire.GatewayError.self, from: bytes)
        let message = parsed?.message ?? String(buffer: bytes).prefix(300).description
        return EtcdAnswerError(httpStatus: status, grpcCode: parsed?.grpcCode, message: message)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded: return "no answer within the timeout"
            case .connectTimeout: return "connect timed out"
            case .remoteConnectionClosed: return "connection closed by etcd"
            default: return "\(error)"
            }
        }
        let text = "\(error)"
        if text.contains("Connection refused") || text.contains("connectionRefused") || text.contains("ECONNREFUSED") {
            return "connection refused"
        }
        return text
    }
}

/// An error answer from etcd's gateway.
struct EtcdAnswerError: Error, Sendable {
    var httpStatus: UInt
    var grpcCode: Int?
    var message: String

    /// etcd no longer accepts the token (expired, or another member's).
    var isInvalidToken: Bool {
        grpcCode == 16 || message.contains("invalid auth token")
    }

    /// The error to throw, naming the endpoint, the call and etcd's message.
    func microError(path: String, endpoint: EtcdEndpoint) -> MicroError {
        let code: Int32
        switch grpcCode {
        case 3?: code = 400
        case 5?: code = 404
        case 7?: code = 403
        case 16?: code = 401
        case 4?: code = 408
        case 14?: code = 503
        default: code = httpStatus >= 400 && httpStatus < 600 ? Int32(httpStatus) : 500
        }
        return MicroError(id: EtcdClient.errorID, code: code, detail: "etcd at \(endpoint) refused \(path): \(message)")
    }
}

extension TimeAmount {
    /// The same span as `duration`, rounded to nanoseconds.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
