import NIOCore
import NIOPosix
import Synchronization

/// A bare TCP listener that records every HTTP request it gets, byte for byte, and
/// answers each `200` with an empty body (or, made with `answering: false`, never
/// answers): a stand-in subscriber that no HTTP library parses for us.
final class CaptureServer: Sendable {
    /// The bound port on 127.0.0.1.
    let port: Int
    private let channel: any Channel
    private let captured = Mutex<[String]>([])
    private let acceptor = Mutex<Task<Void, Never>?>(nil)
    private let answering: Bool

    private init(port: Int, channel: any Channel, answering: Bool) {
        self.port = port
        self.channel = channel
        self.answering = answering
    }

    /// Binds a free port on 127.0.0.1 and serves until ``close()``.
    static func start(answering: Bool = true) async throws -> CaptureServer {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let server = CaptureServer(port: listener.channel.localAddress?.port ?? 0, channel: listener.channel, answering: answering)
        let task = Task {
            await withDiscardingTaskGroup { group in
                try? await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await server.serve(connection) }
                    }
                }
                group.cancelAll()
            }
        }
        server.acceptor.withLock { $0 = task }
        return server
    }

    /// The requests received so far, each head and body as sent.
    var requests: [String] {
        captured.withLock { $0 }
    }

    /// Closes the listener and its connections.
    func close() async {
        try? await channel.close()
        let task = acceptor.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Records each complete request (head up to the blank line, then `Content-Length`
    /// bytes) and answers it.
    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var pending = ByteBuffer()
            for try await var chunk in inbound {
                pending.writeBuffer(&chunk)
                while let request = CaptureServer.takeRequest(from: &pending) {
                    captured.withLock { $0.append(request) }
                    guard answering else { continue }
                    try await outbound.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
                }
            }
        }
    }

    private static func takeRequest(from pending: inout ByteBuffer) -> String? {
        let bytes = Array(pending.readableBytesView)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= 4 && Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        let length = head.split(separator: "\r\n").compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].filter { $0 != " " })
        }.first ?? 0
        let total = headEnd + 4 + length
        guard bytes.count >= total else { return nil }
        pending.moveReaderIndex(forwardBy: total)
        pending.discardReadBytes()
        return String(decoding: bytes[..<total], as: UTF8.self)
    }
}
