import Glibc
import MicroCore
import MicroTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import TransportTCP

@Suite("TCPTransport")
struct TCPTransportTests {
    @Test("unary round trip")
    func unaryRoundTrip() async throws {
        let server = try await EchoServer.start()
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        #expect(connection.isOpen)
        let answer = try await call(connection, "hello")
        #expect(answer == "hello")
        await connection.close()
        #expect(!connection.isOpen)
        try await server.stop()
    }

    @Test("IPv6 loopback listen and dial")
    func ipv6() async throws {
        let server = try await EchoServer.start(address: "[::1]:0")
        #expect(server.listener.address.hasPrefix("[::1]:"))
        #expect(server.port > 0)
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        #expect(try await call(connection, "six") == "six")
        await connection.close()
        try await server.stop()
    }

    @Test("many headers and an empty body")
    func manyHeadersEmptyBody() async throws {
        let server = try await EchoServer.start()
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        var headers = Metadata()
        for index in 0..<500 {
            headers.append("X-Header-\(index)", index % 7 == 0 ? "" : "välue \(index) ✓")
        }
        headers.append(MicroHeader.error, MicroHeader.endOfStream)
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(headers: headers))
        await stream.close()
        let answer = try #require(try await stream.receive())
        #expect(answer.body.readableBytes == 0)
        #expect(Array(answer.headers) == Array(headers))
        #expect(answer.headers["micro-error"] == "EOS")
        #expect(try await stream.receive() == nil)
        await connection.close()
        try await server.stop()
    }

    @Test("frames cut anywhere by the reads arrive whole", arguments: [[1, 2, 3, 5, 11, 4099], [4, 4096], [70_000]])
    func framesCutAnywhere(pieceSizes: [Int]) async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        let received = Mutex<[String: TransportMessage]>([:])
        let serving = Task {
            try await listener.serve { stream in
                while let message = try? await stream.receive() {
                    received.withLock { $0[message.headers["N"] ?? "?"] = message }
                }
                await stream.close()
            }
        }
        // Three streams: a small frame, one larger than the reads, and one larger than
        // the handler reserves for a partial frame; each closed with an end frame.
        let sent: [(stream: UInt32, message: TransportMessage)] = [
            (1, TransportMessage(headers: ["N": "small", "Micro-Endpoint": "A.B"], body: ByteBuffer(string: "tiny"))),
            (3, TransportMessage(headers: ["N": "medium"], body: ByteBuffer(repeating: 0x6D, count: 20_000))),
            (5, TransportMessage(headers: ["N": "large"], body: ByteBuffer(repeating: 0x6C, count: 300_000))),
        ]
        var bytes = ByteBuffer()
        for (stream, message) in sent {
            var (head, body) = try TCPFrameEncoder.encodeMessage(message, streamID: stream, maxFrameSize: 1 << 20)
            bytes.writeBuffer(&head)
            if var body { bytes.writeBuffer(&body) }
        }
        for (stream, _) in sent {
            var end = TCPFrameEncoder.encodeEnd(streamID: stream)
            bytes.writeBuffer(&end)
        }
        let raw = try await RawClient.connect(port: Int(listener.address.split(separator: ":").last!)!)
        var piece = 0
        while bytes.readableBytes > 0 {
            let chunk = bytes.readSlice(length: min(pieceSizes[piece % pieceSizes.count], bytes.readableBytes))!
            try await raw.channel.writeAndFlush(chunk)
            piece += 1
            // Apart, so that the server reads them apart.
            if piece % 4 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        try await withTimeout(.seconds(10), "all three messages") {
            while received.withLock({ $0.count }) < sent.count { try await Task.sleep(for: .milliseconds(5)) }
        }
        for (_, message) in sent {
            let name = message.headers["N"]!
            let got = try #require(received.withLock { $0[name] }, "\(name) not received")
            #expect(Array(got.headers) == Array(message.headers), "\(name)")
            #expect(got.body == message.body, "\(name)")
        }
        #expect(raw.channel.isActive, "the server kept the connection")
        raw.channel.close(promise: nil)
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("1 MiB body")
    func largeBody() async throws {
        let server = try await EchoServer.start()
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        // Eight random bytes at a time from a fast generator: a system random call per
        // byte held up the executor (and the timing tests beside this one) for a second.
        var generator = SplitMix64(seed: UInt64.random(in: .min ... .max))
        var random = ByteBuffer()
        for _ in 0..<((1 << 20) / 8) { random.writeInteger(generator.next()) }
        let bytes = Array(random.readableBytesView)
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(headers: ["Content-Type": "application/octet-stream"], body: ByteBuffer(bytes: bytes)))
        await stream.close()
        let answer = try #require(try await stream.receive())
        #expect(answer.body.readableBytes == bytes.count)
        #expect(answer.body.getBytes(at: answer.body.readerIndex, length: answer.body.readableBytes) == bytes)
        #expect(try await stream.receive() == nil)
        await connection.close()
        try await server.stop()
    }

    @Test("a message over maxFrameSize is refused on send")
    func sendTooLarge() async throws {
        let server = try await EchoServer.start()
        let transport = TCPTransport(configuration: .init(maxFrameSize: 1024))
        let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
        let stream = try await connection.openStream()
        await #expect(throws: TransportError.self) {
            try await stream.send(TransportMessage(body: ByteBuffer(repeating: 1, count: 2000)))
        }
        do {
            try await stream.send(TransportMessage(body: ByteBuffer(repeating: 1, count: 2000)))
        } catch let error as TransportError {
            #expect(error.code == .messageTooLarge)
        }
        // The connection is still usable.
        #expect(try await call(connection, "small") == "small")
        await connection.close()
        try await server.stop()
    }

    @Test("a round trip whose request is over maxFrameSize throws and leaves no stream behind")
    func roundTripTooLarge() async throws {
        let server = try await EchoServer.start()
        let transport = TCPTransport(configuration: .init(maxFrameSize: 1024))
        let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
        do {
            _ = try await connection.roundTrip(TransportMessage(body: ByteBuffer(repeating: 1, count: 2000)), before: nil)
            Issue.record("a 2,000-byte request over a 1,024-byte maximum was sent")
        } catch let error as TransportError {
            #expect(error.code == .messageTooLarge)
        }
        #expect((connection as? TCPConnection)?.streamCount == 0)
        // The connection is still usable, for round trips too.
        let answer = try await connection.roundTrip(TransportMessage(body: ByteBuffer(string: "small")), before: .now + .seconds(5))
        #expect(answer.map { String(buffer: $0.body) } == "small")
        await connection.close()
        try await server.stop()
    }

    @Test("1,000 concurrent streams over one connection")
    func thousandConcurrentStreams() async throws {
        let server = try await EchoServer.start()
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        try await withTimeout(.seconds(20), "1,000 calls") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let body = "request-\(index)-" + String(repeating: "x", count: index % 97)
                        let answer = try await call(connection, body)
                        #expect(answer == body)
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(connection.isOpen)
        // Every stream was closed by both sides, so none is left on the connection.
        #expect((connection as? TCPConnection)?.streamCount == 0)
        await connection.close()
        try await server.stop()
    }

    @Test("a handler starts on the connection's event loop and leaves it at its first wait")
    func handlerStartsOnTheEventLoop() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        // Where the handler ran: before its first suspension, and after it.
        let places = Mutex<[Bool]>([])
        let serving = Task {
            try await listener.serve { stream in
                let first = MultiThreadedEventLoopGroup.currentEventLoop != nil
                try? await Task.sleep(for: .milliseconds(10))
                let after = MultiThreadedEventLoopGroup.currentEventLoop != nil
                places.withLock { $0 = [first, after] }
                if let message = try? await stream.receive() { try? await stream.send(message) }
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        #expect(try await call(connection, "where") == "where")
        #expect(places.withLock { $0 } == [true, false])
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("an immediate answer goes out from the event loop without a handler; a declined stream reaches the handler whole")
    func immediateAnswers() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        // Where the immediate handler ran, and what reached the task handler.
        let immediateOnEventLoop = Mutex<[Bool]>([])
        let handled = Mutex<[String]>([])
        let serving = Task {
            try await listener.serve(immediately: { message in
                immediateOnEventLoop.withLock { $0.append(MultiThreadedEventLoopGroup.currentEventLoop != nil) }
                guard message.body.text.hasPrefix("now") else { return nil }
                return TransportMessage(headers: ["X-Path": "immediate"], body: message.body)
            }) { stream in
                var bodies: [String] = []
                while let message = try? await stream.receive() { bodies.append(message.body.text) }
                handled.withLock { $0.append(bodies.joined(separator: "+")) }
                try? await stream.send(TransportMessage(headers: ["X-Path": "task"], body: ByteBuffer(string: bodies.joined(separator: "+"))), endOfStream: true)
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        #expect(try await call(connection, "now") == "now")
        #expect(try await call(connection, "later") == "later")

        // More messages on a stream answered at once are dropped, as after a handler returned.
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(body: ByteBuffer(string: "now, and more")))
        let answer = try await stream.receive()
        #expect(answer?.headers["x-path"] == "immediate")
        try? await stream.send(TransportMessage(body: ByteBuffer(string: "dropped")))
        await stream.close()
        #expect(try await stream.receive() == nil, "the answer carried the end of stream")

        // A declined stream keeps its first message and the ones after it.
        let declined = try await connection.openStream()
        try await declined.send(TransportMessage(body: ByteBuffer(string: "one")))
        try await declined.send(TransportMessage(body: ByteBuffer(string: "two")), endOfStream: true)
        let joined = try await declined.receive()
        #expect(joined?.headers["x-path"] == "task")
        #expect(joined?.body.text == "one+two")
        // The end of stream, after which the client has released the stream.
        #expect(try await declined.receive() == nil)

        #expect(handled.withLock { $0 } == ["later", "one+two"], "only declined streams reach the handler")
        #expect(immediateOnEventLoop.withLock { $0 } == [true, true, true, true])
        #expect((connection as? TCPConnection)?.streamCount == 0)
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("a handler that waits does not hold up other streams on its connection")
    func waitingHandlerDoesNotBlock() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        let serving = Task {
            try await listener.serve { stream in
                guard let message = try? await stream.receive() else { return }
                if message.body.text == "slow" { try? await Task.sleep(for: .seconds(1)) }
                try? await stream.send(message)
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        let slowAnswered = Mutex(false)
        let slow = Task {
            let answer = try await call(connection, "slow")
            slowAnswered.withLock { $0 = true }
            return answer
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await call(connection, "fast") == "fast")
        #expect(!slowAnswered.withLock { $0 }, "the fast call was answered only after the slow one")
        #expect(try await slow.value == "slow")
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve to return") { try await serving.value }
    }

    @Test("many messages both ways; the client half-closes first")
    func streamingClientClosesFirst() async throws {
        let server = try await EchoServer.start()
        let connection = try await server.transport.dial(server.listener.address, timeout: .seconds(5))
        let stream = try await connection.openStream()
        let count = 200
        let reader = Task {
            var received: [String] = []
            while let message = try await stream.receive() { received.append(message.body.text) }
            return received
        }
        for index in 0..<count {
            try await stream.send(TransportMessage(headers: ["Seq": "\(index)"], body: ByteBuffer(string: "m\(index)")))
        }
        await stream.close()
        await #expect(throws: TransportError.self) { try await stream.send(TransportMessage()) }
        let received = try await withTimeout(.seconds(5), "echoes") { try await reader.value }
        #expect(received == (0..<count).map { "m\($0)" })
        await connection.close()
        try await server.stop()
    }

    @Test("the server half-closes first and keeps reading")
    func streamingServerClosesFirst() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        let counted = AsyncStream<Int>.makeStream()
        let serving = Task {
            try await listener.serve { stream in
                for index in 0..<50 { try? await stream.send(TransportMessage(body: ByteBuffer(string: "s\(index)"))) }
                await stream.close()
                var count = 0
                while (try? await stream.receive()) != nil { count += 1 }
                counted.continuation.yield(count)
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(body: ByteBuffer(string: "start")))
        var received: [String] = []
        while let message = try await stream.receive() { received.append(message.body.text) }
        #expect(received == (0..<50).map { "s\($0)" })
        // The server's side is closed; this side can still send.
        for index in 0..<20 { try await stream.send(TransportMessage(body: ByteBuffer(string: "c\(index)"))) }
        await stream.close()
        var iterator = counted.stream.makeAsyncIterator()
        let serverCount = await iterator.next()
        #expect(serverCount == 21)
        await connection.close()
        await listener.close()
        try await withTimeout(.seconds(5), "serve") { try await serving.value }
    }

    @Test("dial to a closed port fails quickly with connectFailed")
    func dialClosedPort() async throws {
        let port = try freePort()
        let start = ContinuousClock.now
        do {
            _ = try await TCPTransport().dial("127.0.0.1:\(port)", timeout: .seconds(5))
            Issue.record("dial to a closed port succeeded")
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
        // Refused at once; well under the 5 s dial timeout even on a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("dial timeout is honoured")
    func dialTimeout() async throws {
        // A listener with a backlog of 0 that never accepts: once its queue is full the
        // kernel drops further SYNs, so a connect hangs until the dial timeout.
        let (fd, port) = try backloggedListener()
        defer { close(fd) }
        let transport = TCPTransport()
        var held: [any TransportConnection] = []
        var timedOut = false
        for _ in 0..<8 {
            let start = ContinuousClock.now
            do {
                held.append(try await transport.dial("127.0.0.1:\(port)", timeout: .milliseconds(300)))
            } catch let error as TransportError {
                let elapsed = ContinuousClock.now - start
                #expect(error.code == .connectFailed)
                #expect(elapsed >= .milliseconds(250))
                // Without the timeout the connect would hang; a loaded machine adds delay.
                #expect(elapsed < .seconds(4))
                timedOut = true
                break
            }
        }
        #expect(timedOut, "no dial timed out against a full backlog")
        for connection in held { await connection.close() }
    }

    @Test("closing the listener fails the client's pending receive promptly")
    func serverCloseFailsReceive() async throws {
        let transport = TCPTransport()
        let listener = try await transport.listen("127.0.0.1:0")
        let serving = Task {
            try await listener.serve { stream in
                // Never answers; ends when the connection goes.
                while (try? await stream.receive()) != nil {}
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(5))
        let stream = try await connection.openStream()
        try await stream.send(TransportMessage(body: ByteBuffer(string: "hang")))
        let receiving = Task { try await stream.receive() }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        await listener.close()
        do {
            _ = try await withTimeout(.seconds(8), "receive to fail") { try await receiving.value }
            Issue.record("receive returned instead of failing")
        } catch let error as TransportError {
            #expect(error.code == .connectionClosed)
            #expect(error.message.contains(listener.address))
        }
        // At once rather than at a timeout (frame 10 s, idle 60 s); a loaded machine adds delay.
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(!connection.isOpen)
        await #expect(throws: TransportError.self) { _ = try await connection.openStream() }
        try await withTimeout(.seconds(5), "serve") { try await serving.value }
    }

    @Test("an idle client connection is closed after idleTimeout, not while a stream is open")
    func idleTimeout() async throws {
        let server = try await EchoServer.start()
        let transport = TCPTransport(configuration: .init(idleTimeout: .milliseconds(300)))
        let connection = try await transport.dial(server.listener.address, timeout: .seconds(5))
        let stream = try await connection.openStream()
        try await Task.sleep(for: .milliseconds(600))
        #expect(connection.isOpen, "closed while a stream was open")
        // While the stream is open, so before it can be released and the connection's
        // idle time starts: the lower bound holds however late the rest runs.
        let idleStart = ContinuousClock.now
        try await stream.send(TransportMessage(body: ByteBuffer(string: "late")))
        await stream.close()
        #expect(try await stream.receive()?.body.text == "late")
        #expect(try await stream.receive() == nil)
        while connection.isOpen, ContinuousClock.now - idleStart < .seconds(8) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - idleStart
        #expect(!connection.isOpen)
        #expect(elapsed >= .milliseconds(250))
        // Never without the idle timer; a loaded machine adds delay.
        #expect(elapsed < .seconds(5))
        do {
            _ = try await connection.openStream()
            Issue.record("an idle-closed connection opened a stream")
        } catch let error as TransportError {
            #expect(error.code == .connectionClosed)
        }
        try await server.stop()
    }

    @Test("the plugin reads its options")
    func plugin() throws {
        #expect(Plugin.tcp.kind == .transport)
        #expect(Plugin.tcp.name == "tcp")
        #expect(Plugin.tcp.options.map(\.name).contains("tcp_max_frame_size"))
        let configuration = try TCPTransport.Configuration(
            options: MicroOptions(["tcp_max_frame_size": "65536", "tcp_frame_timeout": "500ms", "tcp_idle_timeout": "2s"]))
        #expect(configuration.maxFrameSize == 65536)
        #expect(configuration.frameTimeout == .milliseconds(500))
        #expect(configuration.idleTimeout == .seconds(2))
        #expect(throws: OptionError.self) {
            try TCPTransport.Configuration(options: MicroOptions(["tcp_max_frame_size": "big"]))
        }
        let plugins = Plugins([.tcp])
        let transport = try plugins.makeTransport(MicroOptions(["tcp_max_frame_size": "4096"]))
        #expect((transport as? TCPTransport)?.configuration.maxFrameSize == 4096)
        let defaults = TCPTransport.Configuration()
        #expect(defaults.maxFrameSize == 4 * 1024 * 1024)
        #expect(defaults.frameTimeout == .seconds(10))
        #expect(defaults.idleTimeout == .seconds(60))
    }
}

/// A socket listening on 127.0.0.1 with a backlog of 0 that the test never accepts on.
func backloggedListener() throws -> (Int32, Int) {
    try boundSocket(listen: true)
}

private func boundSocket(listen shouldListen: Bool) throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TimeoutError(what: "socket() failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        close(fd)
        throw TimeoutError(what: "bind() failed")
    }
    if shouldListen { _ = listen(fd, 0) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
