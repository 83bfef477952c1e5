import Logging
import MicroCore
import MicroTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import TransportTCP

struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// A listening echo server: every message is sent back on its stream; the stream is closed
/// when the client closes its side.
struct EchoServer: Sendable {
    let transport: TCPTransport
    let listener: any TransportListener
    let serving: Task<Void, any Error>

    static func start(
        _ configuration: TCPTransport.Configuration = .init(), address: String = "127.0.0.1:0"
    ) async throws -> EchoServer {
        let transport = TCPTransport(configuration: configuration)
        let listener = try await transport.listen(address)
        let serving = Task {
            try await listener.serve { stream in
                while let message = try? await stream.receive() {
                    try? await stream.send(message)
                }
                await stream.close()
            }
        }
        return EchoServer(transport: transport, listener: listener, serving: serving)
    }

    var port: Int {
        Int(listener.address.split(separator: ":").last ?? "") ?? 0
    }

    func stop() async throws {
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }
}

extension ByteBuffer {
    /// The readable bytes as a string.
    var text: String { String(buffer: self) }
}

/// One unary call: send `body`, half close, read the answer and the end of stream.
func call(_ connection: any TransportConnection, _ body: String) async throws -> String? {
    let stream = try await connection.openStream()
    try await stream.send(TransportMessage(body: ByteBuffer(string: body)))
    await stream.close()
    let answer = try await stream.receive()
    let end = try await stream.receive()
    #expect(end == nil)
    return answer?.body.text
}

/// A raw TCP client that writes bytes the test chooses and tells when the server closes.
struct RawClient {
    let channel: any Channel

    static func connect(port: Int) async throws -> RawClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel)
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Waits until the peer closes the connection; throws when it does not within `timeout`.
    func waitClosedByPeer(within timeout: Duration) async throws {
        let channel = channel
        try await withTimeout(timeout, "server to close the raw connection") {
            try await channel.closeFuture.get()
        }
    }
}
