@testable import BrokerHTTP
import Foundation
import MicroCore
import MicroMemory
import NIOCore
import Testing

/// Subscribers registered with `secure=true` are POSTed over HTTPS, verified by default.
@Suite(.timeLimit(.minutes(1)))
struct HTTPBrokerTLSTests {
    /// A registry holding one broadcast subscriber of `topic` at the TLS stand-in.
    private func registry(_ server: TLSCaptureServer, topic: String) async throws -> MemoryRegistry {
        let registry = MemoryRegistry()
        try await registry.register(ServiceRecord(
            name: HTTPBroker.serviceName, version: HTTPBroker.broadcastVersion,
            nodes: [Node(id: "\(topic)-1", address: "127.0.0.1:\(server.port)", metadata: ["broker": "http", "topic": topic, "secure": "true"])]
        ))
        return registry
    }

    private func withServer(_ body: (TLSCaptureServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("broker-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await TLSCaptureServer.start(in: directory)
        do {
            try await body(server)
            await server.close()
        } catch {
            await server.close()
            throw error
        }
    }

    @Test func aSecureSubscriberIsPostedOverVerifiedHTTPS() async throws {
        try await withServer { server in
            let fixture = BrokerFixture(registry: try await registry(server, topic: "secure")) {
                $0.tlsCAFile = server.certificateFile
                $0.publishAttempts = 1
            }
            try await fixture.run { fixture in
                let broker = try await fixture.make()
                let receipt = try await broker.publish("secure", message: BrokerMessage(body: ByteBuffer(string: "{}")))
                #expect(receipt == BrokerReceipt(subscribers: 1))
                #expect(server.requests == ["/?id=secure-1"])
            }
        }
    }

    @Test func anUntrustedCertificateFailsTheDelivery() async throws {
        try await withServer { server in
            let fixture = BrokerFixture(registry: try await registry(server, topic: "untrusted")) { $0.publishAttempts = 1 }
            try await fixture.run { fixture in
                let broker = try await fixture.make()
                let error = await #expect(throws: BrokerError.self) {
                    try await broker.publish("untrusted", message: BrokerMessage(body: ByteBuffer(string: "{}")))
                }
                #expect(error?.code == .notDelivered)
                #expect(server.requests.isEmpty, "a request reached a server whose certificate nobody trusts")
            }
        }
    }

    @Test func insecureSkipsVerificationAsGoMicroDoes() async throws {
        try await withServer { server in
            let fixture = BrokerFixture(registry: try await registry(server, topic: "insecure")) {
                $0.tlsInsecure = true
                $0.publishAttempts = 1
            }
            try await fixture.run { fixture in
                let broker = try await fixture.make()
                let receipt = try await broker.publish("insecure", message: BrokerMessage(body: ByteBuffer(string: "{}")))
                #expect(receipt == BrokerReceipt(subscribers: 1))
                #expect(server.requests == ["/?id=insecure-1"])
            }
        }
    }

    @Test func theTLSOptionsAreRead() throws {
        let configuration = try HTTPBroker.Configuration(options: MicroOptions([
            "broker_tls_ca_file": "/etc/ssl/certs/ca.pem", "broker_tls_insecure": "true",
        ]))
        #expect(configuration.tlsCAFile == "/etc/ssl/certs/ca.pem")
        #expect(configuration.tlsInsecure)
        #expect(throws: OptionError.self) { try HTTPBroker.Configuration(options: MicroOptions(["broker_tls_insecure": "maybe"])) }
    }
}
