import MicroTesting
import NIOCore
import NIOPosix

/// A plain TCP connection to a listener, for sending hand-written HTTP bytes and reading
/// the answers back as they arrive.
struct RawHTTPConnection {
    /// One HTTP response as read off the wire.
    struct Response {
        var status: Int
        var head: String
        var body: String
    }

    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let channel: any Channel
    private var pending = ByteBuffer()

    /// Connects to 127.0.0.1:`port` and runs `body` with the connection; closes it after.
    static func with<T: Sendable>(
        port: Int, _ body: (inout RawHTTPConnection) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawHTTPConnection(iterator: inbound.makeAsyncIterator(), outbound: outbound, channel: raw)
            return try await body(&connection)
        }
    }

    /// Sends `text` as it is.
    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads one response (head and `Content-Length` bytes of body), within `timeout`.
    mutating func response(timeout: Duration = .seconds(5)) async throws -> Response {
        while true {
            let bytes = Array(pending.readableBytesView)
            if let headEnd = RawHTTPConnection.headEnd(in: bytes) {
                let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
                let lines = head.split(separator: "\r\n")
                let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
                let length = lines.dropFirst().compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].filter { $0 != " " })
                }.first ?? 0
                let headBytes = headEnd + 4
                if bytes.count >= headBytes + length {
                    pending.moveReaderIndex(forwardBy: headBytes)
                    let body = pending.readString(length: length) ?? ""
                    pending.discardReadBytes()
                    return Response(status: status, head: head, body: body)
                }
            }
            guard var chunk = try await nextChunk(timeout: timeout) else {
                throw ConnectionClosed(seen: String(buffer: pending))
            }
            pending.writeBuffer(&chunk)
        }
    }

    /// Where the blank line after the head starts, if it arrived.
    static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        return (0...(bytes.count - 4)).first { Array(bytes[$0..<$0 + 4]) == separator }
    }

    /// Waits until the listener closes the connection, within `timeout`; returns what
    /// arrived meanwhile.
    mutating func closed(timeout: Duration) async throws -> String {
        while var chunk = try await nextChunk(timeout: timeout) {
            pending.writeBuffer(&chunk)
        }
        return String(buffer: pending)
    }

    private mutating func nextChunk(timeout: Duration) async throws -> ByteBuffer? {
        // The iterator is not Sendable: read it in place, bounded by a timer that
        // closes the connection (which ends the read) when it runs out.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let timer = Task { [channel] in
            try? await Task.sleep(until: deadline, clock: clock)
            if !Task.isCancelled { channel.close(promise: nil) }
        }
        defer { timer.cancel() }
        let chunk: ByteBuffer?
        do {
            chunk = try await iterator.next(isolation: #isolation)
        } catch {
            chunk = nil
        }
        if chunk == nil, clock.now >= deadline { throw TimeLimitExceeded(what: "bytes from the listener", limit: timeout) }
        return chunk
    }

    /// The listener closed the connection before a whole response arrived.
    struct ConnectionClosed: Error, CustomStringConvertible {
        var seen: String
        var description: String { "the connection closed before a whole response arrived; got \(seen.debugDescription)" }
    }
}
