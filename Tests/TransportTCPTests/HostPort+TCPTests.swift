import MicroCore
import NIOCore
import Testing

@testable import TransportTCP

@Suite("HostPort+TCP")
struct HostPortTCPTests {
    @Test("valid addresses")
    func valid() throws {
        let v4 = try HostPort(parsingTCP: "127.0.0.1:8080", forListening: false)
        #expect(v4.host == "127.0.0.1" && v4.port == 8080)
        let v6 = try HostPort(parsingTCP: "[::1]:0", forListening: true)
        #expect(v6.host == "::1" && v6.port == 0)
        let any = try HostPort(parsingTCP: ":9090", forListening: true)
        #expect(any.host == "0.0.0.0" && any.port == 9090)
        #expect(try HostPort(parsingTCP: "localhost:80", forListening: false).host == "localhost")
        #expect(try HostPort(parsingTCP: "[::1]:80", forListening: false).numericSocketAddress?.port == 80)
        #expect(try HostPort(parsingTCP: "localhost:80", forListening: false).numericSocketAddress == nil)
    }

    @Test("invalid addresses are invalidAddress errors that name the expected form", arguments: [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536", "::1:80", "[::1", "[::1]80",
        "[]:80", "host name:80", ":80", "127.0.0.1:0", "127.0.0.1:-1",
    ])
    func invalid(text: String) async {
        do {
            _ = try HostPort(parsingTCP: text, forListening: false)
            Issue.record("accepted '\(text)'")
        } catch {
            #expect(error.code == .invalidAddress)
            #expect(error.message.contains("expected host:port"), "\(error.message)")
        }
        await #expect(throws: TransportError.self) {
            _ = try await TCPTransport().dial(text, timeout: .seconds(1))
        }
    }

    @Test("socket addresses are formatted as host:port, IPv6 in brackets")
    func format() throws {
        #expect(HostPort.format(try SocketAddress(ipAddress: "127.0.0.1", port: 80)) == "127.0.0.1:80")
        #expect(HostPort.format(try SocketAddress(ipAddress: "::1", port: 443)) == "[::1]:443")
        #expect(HostPort.format(nil) == "unknown")
    }
}
