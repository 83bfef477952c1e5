import MicroCore
import MicroTesting
import NIOCore
import Synchronization
import Testing

@testable import TransportTCP

/// A test-only channel layer with a one-line handshake: the dialling side writes
/// `HELLO`, the accepting side answers `OK` (then both pass bytes through) or
/// `NO <reason>`. Each side can be told to fail, delay or never finish its part.
private final class HandshakeLayer: TCPChannelLayer {
    enum Behaviour: Sendable {
        case succeed
        case fail(String)
        case delay(Duration)
        case never
    }

    let dialing: Behaviour
    let accepting: Behaviour
    /// The sides the layer was added to.
    let sides = Mutex<[TCPChannelSide]>([])

    init(dialing: Behaviour = .succeed, accepting: Behaviour = .succeed) {
        self.dialing = dialing
        self.accepting = accepting
    }

    var name: String { "test handshake" }

    func addHandlers(to channel: any Channel, side: TCPChannelSide) throws -> EventLoopFuture<Void> {
        sides.withLock { $0.append(side) }
        let ready = channel.eventLoop.makePromise(of: Void.self)
        let behaviour: Behaviour
        if case .accepting = side { behaviour = accepting } else { behaviour = dialing }
        try channel.pipeline.syncOperations.addHandler(HandshakeHandler(side: side, behaviour: behaviour, ready: ready))
        return ready.futureResult
    }
}

private struct HandshakeFailure: Error, CustomStringConvertible {
    var description: String
}

private final class HandshakeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let side: TCPChannelSide
    let behaviour: HandshakeLayer.Behaviour
    let ready: EventLoopPromise<Void>
    private var buffered = ByteBuffer()
    private var done = false

    init(side: TCPChannelSide, behaviour: HandshakeLayer.Behaviour, ready: EventLoopPromise<Void>) {
        self.side = side
        self.behaviour = behaviour
        self.ready = ready
    }

    private var isDialing: Bool {
        if case .dialing = side { return true }
        return false
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard isDialing else { return }
        switch behaviour {
        case .fail(let reason): ready.fail(HandshakeFailure(description: reason))
        case .never: break
        case .succeed: write("HELLO\n", context: context)
        case .delay(let delay):
            context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
                self.write("HELLO\n", context: context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if done { return context.fireChannelRead(data) }
        var input = unwrapInboundIn(data)
        buffered.writeBuffer(&input)
        let view = buffered.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else { return }
        let line = buffered.readString(length: newline - view.startIndex + 1)!
        if isDialing {
            if line == "OK\n" {
                finish(context: context)
            } else {
                ready.fail(HandshakeFailure(description: "the server refused: \(line.dropFirst(3).dropLast())"))
            }
            return
        }
        guard line == "HELLO\n" else { return ready.fail(HandshakeFailure(description: "no HELLO")) }
        switch behaviour {
        case .fail(let reason):
            write("NO \(reason)\n", context: context)
            ready.fail(HandshakeFailure(description: reason))
        case .never: break
        case .succeed:
            write("OK\n", context: context)
            finish(context: context)
        case .delay(let delay):
            context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
                self.write("OK\n", context: context)
                self.finish(context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(HandshakeFailure(description: "the connection closed during the handshake"))
        context.fireChannelInactive()
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(string: text)), promise: nil)
    }

    /// The handshake is done: later bytes (and any read with the handshake line) pass on.
    private func finish(context: ChannelHandlerContext) {
        done = true
        ready.succeed()
        if buffered.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffered))
            context.fireChannelReadComplete()
        }
        buffered = ByteBuffer()
    }
}

@Suite("TCPChannelLayer")
struct TCPChannelLayerTests {
    /// An echo server and a client transport with `layer` on both.
    private func start(
        _ layer: HandshakeLayer, server: TCPTransport.Configuration = .init()
    ) async throws -> (EchoServer, TCPTransport) {
        var serverConfiguration = server
        serverConfiguration.channelLayer = layer
        let echo = try await EchoServer.start(serverConfiguration)
        var clientConfiguration = TCPTransport.Configuration()
        clientConfiguration.channelLayer = layer
        return (echo, TCPTransport(configuration: clientConfiguration))
    }

    @Test("dial returns once the layer is ready; frames pass through it both ways")
    func dialWaitsForTheLayer() async throws {
        let layer = HandshakeLayer(accepting: .delay(.milliseconds(300)))
        let (server, transport) = try await start(layer)
        let start = ContinuousClock.now
        let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
        #expect(ContinuousClock.now - start >= .milliseconds(250), "dial returned before the server's part of the handshake")
        #expect(try await call(connection, "through the layer") == "through the layer")
        let big = String(repeating: "x", count: 100_000)
        #expect(try await call(connection, big) == big)
        let sides = layer.sides.withLock { $0 }
        #expect(sides.contains(.dialing(HostPort(host: "127.0.0.1", port: server.port))))
        #expect(sides.contains(.accepting))
        await connection.close()
        try await server.stop()
    }

    @Test("a layer that fails on the dialling side fails dial with connectFailed naming the cause")
    func dialSideFailure() async throws {
        let (server, transport) = try await start(HandshakeLayer(dialing: .fail("certificate expired")))
        do {
            let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
            Issue.record("dial succeeded though the layer failed")
            await connection.close()
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("certificate expired"), "\(error.message)")
            #expect(error.message.contains("test handshake"), "\(error.message)")
            #expect(error.message.contains(server.listener.address), "\(error.message)")
        }
        try await server.stop()
    }

    @Test("a layer that fails on the accepting side fails dial with connectFailed naming the cause, and the server logs it")
    func acceptSideFailure() async throws {
        let logs = LogCapture()
        let (server, transport) = try await start(
            HandshakeLayer(accepting: .fail("unknown client")), server: .init(logger: logs.logger()))
        do {
            let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
            Issue.record("dial succeeded though the server's layer failed")
            await connection.close()
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("unknown client"), "\(error.message)")
        }
        let warning = await logs.waitForWarning(containing: "unknown client", timeout: .seconds(5))
        #expect(warning?.message.contains("test handshake failed") == true, "\(logs.records.map(\.line))")
        try await server.stop()
    }

    @Test("a layer not ready within the dial timeout fails dial with connectFailed")
    func dialTimeout() async throws {
        let (server, transport) = try await start(HandshakeLayer(accepting: .never))
        let start = ContinuousClock.now
        do {
            let connection = try await transport.dial(server.listener.address, timeout: .milliseconds(300))
            Issue.record("dial succeeded though the handshake never finished")
            await connection.close()
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("not ready within"), "\(error.message)")
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(250))
        #expect(elapsed < .seconds(4))
        try await server.stop()
    }

    @Test("the listener closes a connection whose layer is not ready within the frame timeout")
    func acceptTimeout() async throws {
        let logs = LogCapture()
        let (server, transport) = try await start(
            HandshakeLayer(dialing: .never), server: .init(frameTimeout: .milliseconds(300), logger: logs.logger()))
        do {
            let connection = try await transport.dial(server.listener.address, timeout: .seconds(10))
            Issue.record("dial succeeded though the handshake never started")
            await connection.close()
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("closed during the handshake"), "\(error.message)")
        }
        let warning = await logs.waitForWarning(containing: "not ready within", timeout: .seconds(5))
        #expect(warning != nil, "\(logs.records.map(\.line))")
        try await server.stop()
    }
}
