import MicroCore
import MicroTesting
import NIOCore
import Synchronization
import Testing

@testable import TransportTCP

@Suite("TCPStream reset")
struct TCPStreamTests {
    /// Serves streams with a handler that never answers; returns the listener, the
    /// serving task, and the counts of handlers started and cancelled.
    private func silentServer() async throws -> (TCPListener, Task<Void, any Error>, started: SharedCount, cancelled: SharedCount) {
        let listener = try #require(try await TCPTransport().listen("127.0.0.1:0") as? TCPListener)
        let started = SharedCount()
        let cancelled = SharedCount()
        let serving = Task {
            try await listener.serve { stream in
                _ = try? await stream.receive()
                started.add()
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    cancelled.add()
                }
            }
        }
        return (listener, serving, started, cancelled)
    }

    @Test("a round trip to a server that never answers leaves no stream on either side; the connection then goes idle")
    func timedOutRoundTripReleasesTheStream() async throws {
        let (listener, serving, started, cancelled) = try await silentServer()
        let transport = TCPTransport(configuration: .init(idleTimeout: .milliseconds(300)))
        let connection = try #require(try await transport.dial(listener.address, timeout: .seconds(5)) as? TCPConnection)
        await #expect(throws: TransportDeadlineExceeded.self) {
            _ = try await connection.roundTrip(TransportMessage(body: ByteBuffer(string: "hello?")), before: .now + .milliseconds(200))
        }
        #expect(connection.streamCount == 0, "the client kept the abandoned stream")
        try await waitFor("the server's handler to be cancelled") { cancelled.value == 1 }
        #expect(started.value == 1)
        try await waitFor("the server to release the stream") { listener.streamCount == 0 }
        try await waitFor("the idle connection to close") { !connection.isOpen }
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("a client task cancelled in a round trip resets the stream on both sides")
    func cancelledRoundTripResetsTheStream() async throws {
        let (listener, serving, started, cancelled) = try await silentServer()
        let connection = try #require(try await TCPTransport().dial(listener.address, timeout: .seconds(5)) as? TCPConnection)
        let call = Task { try await connection.roundTrip(TransportMessage(body: ByteBuffer(string: "hello?")), before: nil) }
        try await waitFor("the server's handler to start") { started.value == 1 }
        call.cancel()
        await #expect(throws: CancellationError.self) { _ = try await call.value }
        #expect(connection.streamCount == 0, "the client kept the cancelled stream")
        try await waitFor("the server's handler to be cancelled") { cancelled.value == 1 }
        try await waitFor("the server to release the stream") { listener.streamCount == 0 }
        #expect(connection.isOpen)
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("a missed receive deadline on a stream resets it on both sides")
    func missedReceiveDeadlineResetsTheStream() async throws {
        let (listener, serving, started, cancelled) = try await silentServer()
        let connection = try #require(try await TCPTransport().dial(listener.address, timeout: .seconds(5)) as? TCPConnection)
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(body: ByteBuffer(string: "stream")))
        try await waitFor("the server's handler to start") { started.value == 1 }
        await #expect(throws: TransportDeadlineExceeded.self) { _ = try await stream.receive(before: .now + .milliseconds(50)) }
        #expect(connection.streamCount == 0)
        try await waitFor("the server's handler to be cancelled") { cancelled.value == 1 }
        try await waitFor("the server to release the stream") { listener.streamCount == 0 }
        do {
            try await stream.send(TransportMessage())
            Issue.record("send on a reset stream succeeded")
        } catch let error as TransportError {
            #expect(error.code == .streamReset)
            #expect(error.message.contains("reset by this side"), "\(error.message)")
        }
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("a server stream is freed once its handler returned: the handler task it keeps for resets makes no cycle")
    func serverStreamIsFreed() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        let served = WeakStream()
        let serving = Task {
            try await listener.serve { stream in
                served.set(stream as AnyObject)
                if let message = try? await stream.receive() { try? await stream.send(message, endOfStream: true) }
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        #expect(try await call(connection, "once") == "once")
        try await waitFor("the server's stream to be freed") { !served.isAlive }
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("a reset for a stream the server does not know opens none; a malformed reset closes the connection")
    func resetFramesFromARawClient() async throws {
        let transport = TCPTransport()
        let listener = try #require(try await transport.listen("127.0.0.1:0") as? TCPListener)
        let handled = Mutex<[String]>([])
        let serving = Task {
            try await listener.serve { stream in
                let body = (try? await stream.receive())?.body.text ?? "nothing"
                handled.withLock { $0.append(body) }
            }
        }
        let raw = try await RawClient.connect(port: Int(listener.address.split(separator: ":").last!)!)
        var bytes = TCPFrameEncoder.encodeReset(streamID: 9, code: .cancelled)
        var (message, _) = try TCPFrameEncoder.encodeMessage(
            TransportMessage(body: ByteBuffer(string: "eleven")), streamID: 11, maxFrameSize: 1024, endOfStream: true)
        bytes.writeBuffer(&message)
        try await raw.write(Array(bytes.readableBytesView))
        try await waitFor("the message on stream 11 to be handled") { !handled.withLock { $0 }.isEmpty }
        #expect(handled.withLock { $0 } == ["eleven"], "the reset for stream 9 must not open a stream")
        #expect(raw.channel.isActive)
        // A reset frame one byte short of its code.
        try await raw.write([0, 0, 0, 8, 0, 0, 0, 13, 2, 0, 0, 1])
        try await raw.waitClosedByPeer(within: .seconds(5))
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }
}

/// A weak reference a handler can fill in.
final class WeakStream: Sendable {
    private let stream = Mutex<Weak>(Weak())

    struct Weak: @unchecked Sendable {
        // Only read and written under the mutex.
        weak var object: AnyObject?
    }

    /// Whether the stream still exists.
    var isAlive: Bool { stream.withLock { $0.object != nil } }

    /// Keeps a weak reference to `object`.
    func set(_ object: AnyObject) { stream.withLock { $0.object = object } }
}

/// A counter shared with a handler.
final class SharedCount: Sendable {
    private let count = Mutex(0)

    /// The count.
    var value: Int { count.withLock { $0 } }

    /// Adds one.
    func add() { count.withLock { $0 += 1 } }
}
