import MicroCore
import MicroTesting
import NIOCore
import Testing

@testable import TransportTCP

/// A live server fed bad bytes on raw connections: each bad connection is closed with a
/// logged warning, and a well-behaved client on another connection keeps being answered.
@Suite("TCPTransport malformed input")
struct TCPMalformedInputTests {
    /// Runs `feed` against a fresh server while a normal client makes calls before, during
    /// and after; checks a warning containing `reason` was logged.
    func check(
        reason: String, frameTimeout: Duration = .seconds(10),
        _ feed: @escaping @Sendable (RawClient, any TransportConnection) async throws -> Void
    ) async throws {
        let logs = LogCapture()
        let server = try await EchoServer.start(.init(frameTimeout: frameTimeout, logger: logs.logger("test.tcp")))
        let connection = try await TCPTransport().dial(server.listener.address, timeout: .seconds(5))
        #expect(try await call(connection, "before") == "before")
        let raw = try await RawClient.connect(port: server.port)
        try await feed(raw, connection)
        let warning = await logs.waitForWarning(containing: reason)
        #expect(warning != nil, "no warning containing '\(reason)'; warnings: \(logs.warnings.map(\.message))")
        if let warning {
            #expect(warning.message.contains("connection from 127.0.0.1:"), "the warning names the peer")
        }
        #expect(try await call(connection, "after") == "after")
        #expect(connection.isOpen)
        await connection.close()
        try await server.stop()
    }

    @Test("garbage bytes (text with a huge length prefix)")
    func garbageText() async throws {
        try await check(reason: "exceeds the maximum") { raw, _ in
            try await raw.write(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
    }

    @Test("garbage bytes with a plausible length")
    func garbageFrame() async throws {
        try await check(reason: "unknown frame kind") { raw, _ in
            try await raw.write([0, 0, 0, 9, 0, 0, 0, 1, 0x7F, 0xDE, 0xAD, 0xBE, 0xEF])
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
    }

    @Test("an oversized length prefix is refused before the frame arrives")
    func oversizedLength() async throws {
        try await check(reason: "exceeds the maximum") { raw, _ in
            // 4 MiB + 1 announced; only the prefix is sent.
            try await raw.write([0x00, 0x40, 0x00, 0x01])
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
    }

    @Test("an impossible header length")
    func impossibleHeaderLength() async throws {
        try await check(reason: "claims a 500-byte name") { raw, _ in
            // length 13: stream 1, kind message, 1 header, name length 500, 4 bytes.
            try await raw.write([0, 0, 0, 13, 0, 0, 0, 1, 0, 0, 1, 0x01, 0xF4, 0x41, 0x42, 0x43, 0x44])
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
    }

    @Test("stream id 0 and a message after end of stream")
    func streamRuleViolations() async throws {
        try await check(reason: "after its end of stream") { raw, _ in
            // end of stream 7, then a message on stream 7.
            try await raw.write([0, 0, 0, 5, 0, 0, 0, 7, 1, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0])
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
        try await check(reason: "stream id 0") { raw, _ in
            try await raw.write([0, 0, 0, 5, 0, 0, 0, 0, 1])
            try await raw.waitClosedByPeer(within: .seconds(2))
        }
    }

    @Test("a truncated frame followed by close")
    func truncatedThenClose() async throws {
        try await check(reason: "middle of a frame") { raw, _ in
            try await raw.write([0, 0, 0, 100, 0, 0, 0, 1, 0, 0, 0])
            try await raw.channel.close()
        }
    }

    @Test("half a frame and a stall is cut off after frameTimeout")
    func stalledFrame() async throws {
        try await check(reason: "sent part of a frame", frameTimeout: .milliseconds(400)) { raw, connection in
            let start = ContinuousClock.now
            try await raw.write([0, 0, 0, 100, 0, 0, 0, 1, 0, 0])
            // Served during the stall.
            #expect(try await call(connection, "during") == "during")
            // Never closed without the frame timer; a loaded machine adds delay.
            try await raw.waitClosedByPeer(within: .seconds(6))
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(350))
        }
    }

    @Test("a slow but complete frame is not cut off")
    func slowFrameCompletes() async throws {
        let logs = LogCapture()
        // A frame timeout well above the gap between the parts, which a loaded machine
        // stretches, and a wait past it once the frame is whole.
        let server = try await EchoServer.start(.init(frameTimeout: .milliseconds(1500), logger: logs.logger("test.tcp")))
        let raw = try await RawClient.connect(port: server.port)
        // A whole message frame in two parts 200 ms apart: stream 1, no headers, body "hi".
        try await raw.write([0, 0, 0, 9, 0, 0, 0, 1, 0])
        try await Task.sleep(for: .milliseconds(200))
        try await raw.write([0, 0, 0x68, 0x69])
        try await Task.sleep(for: .milliseconds(1800))
        #expect(raw.channel.isActive)
        #expect(logs.warnings.isEmpty, "\(logs.warnings.map(\.message))")
        raw.channel.close(promise: nil)
        try await server.stop()
    }
}
