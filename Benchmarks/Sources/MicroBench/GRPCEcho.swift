import GRPCCore
import GRPCNIOTransportHTTP2

/// grpc-swift 2 over HTTP/2 (plaintext): a unary echo of raw bytes with a hand-written
/// serializer (no code generation).
enum GRPCEcho {
    static let method = MethodDescriptor(fullyQualifiedService: "bench.Echo", method: "Echo")

    /// Bytes in, bytes out, unchanged.
    struct BytesCoder: MessageSerializer, MessageDeserializer {
        typealias Message = [UInt8]

        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
            Bytes(message)
        }

        func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
            serializedMessageBytes.withUnsafeBytes { Array($0) }
        }
    }

    /// The echo service.
    struct Service: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(forMethod: GRPCEcho.method, deserializer: BytesCoder(), serializer: BytesCoder()) {
                request, _ in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(single: ServerResponse(message: single.message))
            }
        }
    }

    /// Serves on `127.0.0.1:0`; calls `ready` with the bound port, then serves until the
    /// process is killed.
    static func serve(ready: @Sendable (Int) -> Void) async throws {
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [Service()]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            guard let address = try await server.listeningAddress?.ipv4 else {
                throw BenchError("grpc server did not bind an IPv4 address")
            }
            ready(address.port)
            try await group.next()
        }
    }

    /// Runs `body` with a connected client.
    static func withClient<Result: Sendable>(
        host: String, port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: host, port: port), transportSecurity: .plaintext
        )
        return try await withGRPCClient(transport: transport) { client in try await body(client) }
    }

    /// One echo call.
    static func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ payload: [UInt8]) async throws -> [UInt8] {
        try await client.unary(
            request: ClientRequest(message: payload), descriptor: method,
            serializer: BytesCoder(), deserializer: BytesCoder(), options: .defaults
        ) { response in try response.message }
    }
}
