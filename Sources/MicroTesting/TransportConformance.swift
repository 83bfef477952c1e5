public import MicroCore
import NIOCore

/// The behaviour every ``MicroCore/Transport`` backend must show.
///
/// ```swift
/// @Test(arguments: TransportConformance.cases)
/// func transportConformance(_ check: TransportConformance.Case) async throws {
///     try await check.run({ TCPTransport() }, listenAddress: "127.0.0.1:0")
/// }
/// ```
public enum TransportConformance {
    /// Timing of the checks.
    public struct Options: Sendable {
        /// How long any single step (dial, send, receive, serve returning) may take.
        public var timeout: Duration = .seconds(5)
        /// The dial timeout passed to the transport.
        public var dialTimeout: Duration = .seconds(1)

        /// The defaults: 5 s per step, 1 s dial timeout.
        public init() {}
    }

    /// One named check.
    public struct Case: Sendable, CustomStringConvertible {
        /// The check's name, such as `unaryRoundTrip`.
        public let name: String
        private let body: @Sendable (Context) async throws -> Void

        fileprivate init(_ name: String, _ body: @escaping @Sendable (Context) async throws -> Void) {
            self.name = name
            self.body = body
        }

        /// The name.
        public var description: String { name }

        /// Runs the check.
        ///
        /// - Parameters:
        ///   - makeTransport: returns a transport; the case calls it once for the server
        ///     side and once for the client side, which must reach each other (for an
        ///     in-process backend, return one instance).
        ///   - listenAddress: what the server listens on, such as `127.0.0.1:0`.
        ///   - options: timing.
        /// - Throws: ``ConformanceFailure`` naming the case and what differed.
        public func run(
            _ makeTransport: @escaping @Sendable () async throws -> any Transport,
            listenAddress: String,
            options: Options = Options()
        ) async throws {
            let context = Context(makeTransport: makeTransport, listenAddress: listenAddress, options: options)
            try await runCase("TransportConformance", name) {
                do {
                    try await body(context)
                } catch {
                    await context.cleanUp()
                    throw error
                }
                await context.cleanUp()
            }
        }
    }

    /// Every check.
    public static let cases: [Case] = [
        Case("listenerAddressIsDialable", listenerAddressIsDialable),
        Case("unaryRoundTrip", unaryRoundTrip),
        Case("streamClosedByClient", streamClosedByClient),
        Case("streamClosedByServer", streamClosedByServer),
        Case("concurrentStreamsOnOneConnection", concurrentStreamsOnOneConnection),
        Case("largeBody", largeBody),
        Case("dialWithoutListenerFails", dialWithoutListenerFails),
        Case("listenerCloseEndsServeAndClients", listenerCloseEndsServeAndClients),
        Case("sendAfterCloseThrows", sendAfterCloseThrows),
        Case("sendWithEndOfStream", sendWithEndOfStream),
        Case("receiveBeforeADeadline", receiveBeforeADeadline),
        Case("immediateAnswersMatchTheHandler", immediateAnswersMatchTheHandler),
        Case("roundTripExchangesOneMessage", roundTripExchangesOneMessage),
        Case("mixedMessageSizesOnOneStream", mixedMessageSizesOnOneStream),
        Case("resetAbandonsTheStreamOnBothSides", resetAbandonsTheStreamOnBothSides),
    ]

    // MARK: - Support

    /// What a case works with: the transports, and the listeners and connections to close.
    final class Context: Sendable {
        let makeTransport: @Sendable () async throws -> any Transport
        let listenAddress: String
        let options: Options
        private let listeners = MutexBox<[any TransportListener]>([])
        private let connections = MutexBox<[any TransportConnection]>([])
        private let serveTasks = MutexBox<[Task<Void, any Error>]>([])

        init(makeTransport: @escaping @Sendable () async throws -> any Transport, listenAddress: String, options: Options) {
            self.makeTransport = makeTransport
            self.listenAddress = listenAddress
            self.options = options
        }

        func step<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withTimeout(options.timeout, what, body)
        }

        /// Listens and serves `handler` (after `immediate`, when given); returns the
        /// listener and the serving task.
        func serve(
            immediately immediate: (@Sendable (TransportMessage) -> TransportMessage?)? = nil,
            _ handler: @escaping @Sendable (any TransportStream) async -> Void
        ) async throws -> (listener: any TransportListener, serving: Task<Void, any Error>) {
            let make = makeTransport
            let address = listenAddress
            let transport = try await step("makeTransport() for the server") { try await make() }
            let listener = try await step("listen(\(address))") { try await transport.listen(address) }
            listeners.withLock { $0.append(listener) }
            let serving = Task {
                if let immediate {
                    try await listener.serve(immediately: immediate, handler)
                } else {
                    try await listener.serve(handler)
                }
            }
            serveTasks.withLock { $0.append(serving) }
            return (listener, serving)
        }

        /// Dials `address` with a fresh client transport.
        func dial(_ address: String) async throws -> any TransportConnection {
            let make = makeTransport
            let timeout = options.dialTimeout
            let transport = try await step("makeTransport() for the client") { try await make() }
            let connection = try await step("dial(\(address))") { try await transport.dial(address, timeout: timeout) }
            connections.withLock { $0.append(connection) }
            return connection
        }

        func cleanUp() async {
            let connections = self.connections.withLock { items in defer { items = [] }; return items }
            for connection in connections { await connection.close() }
            let listeners = self.listeners.withLock { items in defer { items = [] }; return items }
            for listener in listeners { await listener.close() }
            let tasks = serveTasks.withLock { items in defer { items = [] }; return items }
            for task in tasks {
                _ = try? await withTimeout(options.timeout, "serve() to return in clean-up") { _ = try? await task.value }
                task.cancel()
            }
        }
    }

    /// Waits until `condition` holds, checking every few milliseconds, for at most the
    /// step timeout; fails saying `what` was awaited.
    static func waitUntil(_ context: Context, _ what: String, _ condition: @escaping @Sendable () -> Bool) async throws {
        try await context.step(what) {
            while !condition() { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    /// Runs `body` and describes how it failed: `TransportError.<code>`,
    /// `TransportDeadlineExceeded`, `CancellationError`, or the type; `returned` when it
    /// did not fail.
    static func howItEnds(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "returned"
        } catch let error as TransportError {
            return "TransportError.\(error.code)"
        } catch is TransportDeadlineExceeded {
            return "TransportDeadlineExceeded"
        } catch is CancellationError {
            return "CancellationError"
        } catch {
            return "\(type(of: error)) (\(error))"
        }
    }

    static func buffer(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    static func text(_ buffer: ByteBuffer) -> String {
        String(buffer: buffer)
    }

    /// A server that answers each message with one carrying the same body, the request's
    /// `X-Request` header as `X-Echo`, and closes when the client does.
    static let echo: @Sendable (any TransportStream) async -> Void = { stream in
        do {
            while let message = try await stream.receive() {
                var headers = Metadata()
                headers["X-Echo"] = message.headers["x-request"] ?? "missing"
                headers["Micro-Id"] = message.headers["micro-id"] ?? ""
                try await stream.send(TransportMessage(headers: headers, body: message.body))
            }
            await stream.close()
        } catch {
            await stream.close()
        }
    }

    // MARK: - Cases

    static func listenerAddressIsDialable(_ context: Context) async throws {
        let (listener, _) = try await context.serve(echo)
        let address = listener.address
        try expect(!address.isEmpty, "listener.address is empty")
        if context.listenAddress.hasSuffix(":0") {
            try expect(!address.hasSuffix(":0"), "listening on \(context.listenAddress) reported \(address), not the port actually bound")
        }
        let connection = try await context.dial(address)
        try expect(connection.isOpen, "a fresh connection to \(address) says it is not open")
        let stream = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await stream.send(TransportMessage(headers: ["X-Request": "ping"], body: buffer("ping"))) }
        let reply = try await context.step("the echo") { try await stream.receive() }
        try expectEqual(reply.map { text($0.body) }, "ping", "echoed body from \(address)")
    }

    static func unaryRoundTrip(_ context: Context) async throws {
        let (listener, _) = try await context.serve { stream in
            do {
                guard let request = try await stream.receive() else { return await stream.close() }
                var headers = Metadata()
                headers["Micro-Id"] = request.headers["MICRO-ID"] ?? "missing"
                headers["X-Got-Custom"] = request.headers["x-custom-header"] ?? "missing"
                headers["Content-Type"] = request.headers["content-type"] ?? "missing"
                var body = request.body
                body.writeString("|answer")
                try await stream.send(TransportMessage(headers: headers, body: body))
                await stream.close()
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        var headers = Metadata()
        headers["Micro-Id"] = "42"
        headers["X-Custom-Header"] = "Mixed Case Value"
        headers["Content-Type"] = "application/octet-stream"
        var body = ByteBuffer()
        body.writeBytes([0, 1, 2, 0xFF, 0xFE, 10, 13])
        let request = TransportMessage(headers: headers, body: body)
        let sentBody = body
        try await context.step("send the request") { try await stream.send(request) }
        await stream.close()
        guard let reply = try await context.step("the reply", { try await stream.receive() }) else {
            throw ConformanceFailure("expected a reply, receive() returned nil")
        }
        try expectEqual(reply.headers["micro-id"], "42", "Micro-Id echoed by the server (looked up as micro-id)")
        try expectEqual(reply.headers["X-GOT-CUSTOM"], "Mixed Case Value", "X-Custom-Header as the server saw it (looked up as x-custom-header)")
        try expectEqual(reply.headers["Content-Type"], "application/octet-stream", "Content-Type as the server saw it")
        var expectedBody = sentBody
        expectedBody.writeString("|answer")
        try expectEqual(Array(reply.body.readableBytesView), Array(expectedBody.readableBytesView), "reply body bytes")
        let end = try await context.step("receive() after the server closed") { try await stream.receive() }
        try expect(end == nil, "expected nil after the server closed its side, got a message with body \(end.map { text($0.body) } ?? "")")
    }

    static func sendWithEndOfStream(_ context: Context) async throws {
        let (listener, _) = try await context.serve { stream in
            do {
                var bodies: [String] = []
                while let message = try await stream.receive() { bodies.append(text(message.body)) }
                try await stream.send(TransportMessage(headers: ["X-Seen": bodies.joined(separator: ",")]), endOfStream: true)
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await stream.send(TransportMessage(body: buffer("one"))) }
        try await context.step("send(_:endOfStream: true)") {
            try await stream.send(TransportMessage(body: buffer("two")), endOfStream: true)
        }
        let reply = try await context.step("the reply") { try await stream.receive() }
        try expectEqual(reply?.headers["x-seen"], "one,two", "what the server received before the end of stream")
        let end = try await context.step("receive() after the server's send(_:endOfStream: true)") { try await stream.receive() }
        try expect(end == nil, "expected nil after the server's last message carried the end of stream")
        var thrown = false
        do {
            try await context.step("send after send(_:endOfStream: true)") { try await stream.send(TransportMessage(body: buffer("three"))) }
        } catch is TransportError {
            thrown = true
        }
        try expect(thrown, "send after send(_:endOfStream: true) must throw a TransportError")
    }

    /// `serve(immediately:_:)`: whether the listener answers a stream at once or leaves
    /// it to the handler, the caller gets the same answer, then the end of stream.
    static func immediateAnswersMatchTheHandler(_ context: Context) async throws {
        let handled = MutexBox<[String]>([])
        // Answers "now…" at once; the handler must answer it the same way.
        let answer: @Sendable (TransportMessage) -> TransportMessage? = { message in
            let body = text(message.body)
            guard body.hasPrefix("now") else { return nil }
            return TransportMessage(headers: ["X-Answer": "at once"], body: buffer(body.uppercased()))
        }
        let (listener, _) = try await context.serve(immediately: answer) { stream in
            do {
                guard let first = try await stream.receive() else { return await stream.close() }
                handled.withLock { $0.append(text(first.body)) }
                let reply = answer(first) ?? TransportMessage(headers: ["X-Answer": "later"], body: buffer(text(first.body) + "!"))
                try await stream.send(reply, endOfStream: true)
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        for (request, header, body) in [("now", "at once", "NOW"), ("wait", "later", "wait!"), ("now too", "at once", "NOW TOO")] {
            let stream = try await context.step("openStream") { try await connection.openStream() }
            try await context.step("send \(request)") {
                try await stream.send(TransportMessage(headers: ["X-Request": request], body: buffer(request)), endOfStream: true)
            }
            guard let reply = try await context.step("the answer to \(request)", { try await stream.receive() }) else {
                throw ConformanceFailure("expected an answer to \(request), receive() returned nil")
            }
            try expectEqual(reply.headers["x-answer"], header, "X-Answer of the answer to \(request)")
            try expectEqual(text(reply.body), body, "body of the answer to \(request)")
            let end = try await context.step("receive() after the answer to \(request)") { try await stream.receive() }
            try expect(end == nil, "expected the end of stream after the answer to \(request)")
        }
        try expect(handled.withLock { $0 }.contains("wait"), "a stream the immediate handler declined must reach the handler with its first message; it saw \(handled.withLock { $0 })")
    }

    /// `roundTrip(_:before:)`: the first message back, `nil` when the server closes
    /// without answering, `TransportDeadlineExceeded` at the deadline, concurrent round
    /// trips on one connection each get their own answer, and a closed connection throws
    /// a `TransportError`.
    static func roundTripExchangesOneMessage(_ context: Context) async throws {
        let (listener, _) = try await context.serve { stream in
            do {
                guard let request = try await stream.receive() else { return await stream.close() }
                let body = text(request.body)
                // The request came with its end of stream.
                guard try await stream.receive() == nil else { return await stream.close() }
                switch body {
                case "silent":
                    await stream.close()
                case "slow":
                    try await Task.sleep(for: .milliseconds(400))
                    try await stream.send(TransportMessage(body: buffer("late")), endOfStream: true)
                default:
                    let headers: Metadata = ["X-Echo": request.headers["x-request"] ?? "missing"]
                    try await stream.send(TransportMessage(headers: headers, body: buffer(body + "|answer")), endOfStream: true)
                }
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let reply = try await context.step("roundTrip without a deadline") {
            try await connection.roundTrip(TransportMessage(headers: ["X-Request": "one"], body: buffer("one")), before: nil)
        }
        try expectEqual(reply.map { text($0.body) }, "one|answer", "body of the round trip's answer")
        try expectEqual(reply?.headers["x-echo"], "one", "header of the round trip's answer")
        let silent = try await context.step("roundTrip to a server that closes without answering") {
            try await connection.roundTrip(TransportMessage(body: buffer("silent")), before: .now + context.options.timeout)
        }
        try expect(silent == nil, "roundTrip must return nil when the server closes without answering; got \(silent.map { text($0.body) } ?? "")")
        var timedOut = false
        let start = ContinuousClock.now
        do {
            _ = try await context.step("roundTrip(before: now + 100 ms) to a slow server") {
                try await connection.roundTrip(TransportMessage(body: buffer("slow")), before: .now + .milliseconds(100))
            }
        } catch is TransportDeadlineExceeded {
            timedOut = true
        }
        try expect(timedOut, "roundTrip(before:) must throw TransportDeadlineExceeded when the deadline passes first")
        let waited = ContinuousClock.now - start
        try expect(waited >= .milliseconds(90), "roundTrip(before:) gave up after \(waited), before its deadline")
        let answers = try await context.step("20 concurrent round trips") {
            try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await connection.roundTrip(
                            TransportMessage(headers: ["X-Request": "\(index)"], body: buffer("call \(index)")), before: .now + .seconds(5))
                        return (index, reply.map { text($0.body) })
                    }
                }
                var answers: [Int: String?] = [:]
                for try await (index, body) in group { answers[index] = body }
                return answers
            }
        }
        for index in 0..<20 {
            try expectEqual(answers[index] ?? nil, "call \(index)|answer", "answer to concurrent round trip \(index)")
        }
        await connection.close()
        var failed = false
        do {
            _ = try await context.step("roundTrip on a closed connection") {
                try await connection.roundTrip(TransportMessage(body: buffer("after")), before: nil)
            }
        } catch is TransportError {
            failed = true
        }
        try expect(failed, "roundTrip on a closed connection must throw a TransportError")
    }

    /// `receive(before:)` throws `TransportDeadlineExceeded` no earlier than its deadline,
    /// and a missed deadline abandons the stream: the server's handler is cancelled and a
    /// later receive throws `TransportError.streamReset`.
    static func receiveBeforeADeadline(_ context: Context) async throws {
        let handlerSlept = MutexBox<String?>(nil)
        let (listener, _) = try await context.serve { stream in
            guard (try? await stream.receive()) != nil else { return await stream.close() }
            // Waits for its cancellation, for longer than the client waits.
            let outcome = await howItEnds { try await Task.sleep(for: context.options.timeout) }
            handlerSlept.withLock { $0 = outcome }
            try? await stream.send(TransportMessage(body: buffer("late")), endOfStream: true)
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await stream.send(TransportMessage(body: buffer("ask"))) }
        let start = ContinuousClock.now
        var timedOut = false
        do {
            _ = try await context.step("receive(before: now + 100 ms)") { try await stream.receive(before: .now + .milliseconds(100)) }
        } catch is TransportDeadlineExceeded {
            timedOut = true
        }
        try expect(timedOut, "receive(before:) must throw TransportDeadlineExceeded when the deadline passes first")
        let waited = ContinuousClock.now - start
        try expect(waited >= .milliseconds(90), "receive(before:) gave up after \(waited), before its deadline")
        try await waitUntil(context, "the server's handler to end after the client's missed deadline") {
            handlerSlept.withLock { $0 } != nil
        }
        let slept = handlerSlept.withLock { $0 } ?? ""
        try expect(slept == "CancellationError",
                   "the server handler's sleep \(slept == "returned" ? "ran to its end" : "ended with \(slept)"): a missed receive deadline must reset the stream, cancelling the handler")
        let after = await howItEnds { _ = try await stream.receive(before: .now + context.options.timeout) }
        try expectEqual(after, "TransportError.streamReset", "receive() on the stream after its missed deadline")
    }

    static func streamClosedByClient(_ context: Context) async throws {
        let count = 50
        let (listener, _) = try await context.serve { stream in
            do {
                var seen = 0
                while let message = try await stream.receive() {
                    seen += 1
                    try await stream.send(TransportMessage(body: buffer("echo:" + text(message.body))))
                }
                try await stream.send(TransportMessage(headers: ["X-Count": "\(seen)"]))
                await stream.close()
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        for index in 0..<count {
            try await context.step("send message \(index)") { try await stream.send(TransportMessage(body: buffer("m\(index)"))) }
        }
        for index in 0..<count {
            let reply = try await context.step("echo \(index)") { try await stream.receive() }
            try expectEqual(reply.map { text($0.body) }, "echo:m\(index)", "echo \(index) of \(count)")
        }
        await stream.close()
        let summary = try await context.step("the server's answer after the client closed") { try await stream.receive() }
        try expectEqual(summary?.headers["x-count"], "\(count)", "messages the server counted before receive() returned nil")
        let end = try await context.step("nil after the server closed") { try await stream.receive() }
        try expect(end == nil, "expected nil after the server closed its side")
    }

    static func streamClosedByServer(_ context: Context) async throws {
        let count = 50
        let (listener, _) = try await context.serve { stream in
            do {
                guard let request = try await stream.receive(), let total = Int(text(request.body)) else {
                    return await stream.close()
                }
                for index in 0..<total {
                    try await stream.send(TransportMessage(body: buffer("s\(index)")))
                }
                await stream.close()
                // The client can still send after the server's half close.
                var after = 0
                while try await stream.receive() != nil { after += 1 }
                _ = after
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send the count") { try await stream.send(TransportMessage(body: buffer("\(count)"))) }
        for index in 0..<count {
            let message = try await context.step("server message \(index)") { try await stream.receive() }
            try expectEqual(message.map { text($0.body) }, "s\(index)", "server message \(index) of \(count)")
        }
        let end = try await context.step("nil after the server closed") { try await stream.receive() }
        try expect(end == nil, "expected nil after the server's \(count) messages and close, got \(end.map { text($0.body) } ?? "")")
        try await context.step("send after the peer's half close") { try await stream.send(TransportMessage(body: buffer("late"))) }
        await stream.close()
    }

    static func concurrentStreamsOnOneConnection(_ context: Context) async throws {
        let (listener, _) = try await context.serve(echo)
        let connection = try await context.dial(listener.address)
        let timeout = context.options.timeout
        let failures = try await withTimeout(timeout * 2, "100 concurrent streams") {
            try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let stream = try await connection.openStream()
                        try await stream.send(TransportMessage(headers: ["X-Request": "r\(index)"], body: buffer("body-\(index)")))
                        await stream.close()
                        guard let reply = try await stream.receive() else { return "stream \(index): no reply" }
                        let body = text(reply.body)
                        if body != "body-\(index)" { return "stream \(index): got body \(body)" }
                        if reply.headers["x-echo"] != "r\(index)" { return "stream \(index): got X-Echo \(reply.headers["x-echo"] ?? "nil")" }
                        if try await stream.receive() != nil { return "stream \(index): a second reply" }
                        return nil
                    }
                }
                var failures: [String] = []
                for try await failure in group {
                    if let failure { failures.append(failure) }
                }
                return failures
            }
        }
        try expect(failures.isEmpty, "\(failures.count) of 100 streams on one connection got wrong answers: \(failures.prefix(5))")
    }

    static func largeBody(_ context: Context) async throws {
        let (listener, _) = try await context.serve(echo)
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        // Eight random bytes at a time from a fast generator: a system random call per
        // byte held up the executor for a second of a loaded machine's time.
        var generator = SplitMix64(seed: UInt64.random(in: .min ... .max))
        var body = ByteBuffer()
        body.reserveCapacity(1 << 20)
        for _ in 0..<((1 << 20) / 8) { body.writeInteger(generator.next()) }
        let bytes = Array(body.readableBytesView)
        let message = TransportMessage(headers: ["X-Request": "big"], body: body)
        try await context.step("send 1 MiB") { try await stream.send(message) }
        await stream.close()
        let reply = try await context.step("the 1 MiB echo") { try await stream.receive() }
        guard let reply else { throw ConformanceFailure("expected the 1 MiB echo, receive() returned nil") }
        try expectEqual(reply.body.readableBytes, bytes.count, "size of the echoed 1 MiB body")
        try expect(Array(reply.body.readableBytesView) == bytes, "the echoed 1 MiB body differs from what was sent")
    }

    static func dialWithoutListenerFails(_ context: Context) async throws {
        let make = context.makeTransport
        let address = context.listenAddress
        let server = try await context.step("makeTransport()") { try await make() }
        let listener = try await context.step("listen") { try await server.listen(address) }
        let deadAddress = listener.address
        await listener.close()
        let client = try await context.step("makeTransport()") { try await make() }
        let dialTimeout = context.options.dialTimeout
        let outcome: Result<Void, any Error> = try await context.step("dial(\(deadAddress)) to fail") {
            do {
                let connection = try await client.dial(deadAddress, timeout: dialTimeout)
                let stream = try await connection.openStream()
                try await stream.send(TransportMessage(body: buffer("x")))
                _ = try await stream.receive()
                await connection.close()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success:
            throw ConformanceFailure("dial(\(deadAddress)) with no listener succeeded and a call went through")
        case .failure(let error as TransportError):
            try expectEqual(error.code, .connectFailed, "TransportError code dialling \(deadAddress) with no listener (\(error))")
        case .failure(let error):
            throw ConformanceFailure("dial(\(deadAddress)) with no listener threw \(type(of: error)) (\(error)), not TransportError(.connectFailed)")
        }
    }

    /// `listener.close()` makes `serve` return once its handlers have, ends a handler's
    /// pending receive, and fails the client's pending receive with
    /// `TransportError.connectionClosed`.
    static func listenerCloseEndsServeAndClients(_ context: Context) async throws {
        let received = MutexBox<Bool>(false)
        let handlerEnded = MutexBox<String?>(nil)
        let (listener, serving) = try await context.serve { stream in
            guard (try? await stream.receive()) != nil else { return await stream.close() }
            received.withLock { $0 = true }
            // Waits for a client that never sends again: listener close must release it.
            let outcome: String
            do {
                outcome = try await stream.receive() == nil ? "nil" : "a message"
            } catch is TransportError {
                outcome = "TransportError"
            } catch {
                outcome = "\(type(of: error))"
            }
            handlerEnded.withLock { $0 = outcome }
            await stream.close()
        }
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await stream.send(TransportMessage(body: buffer("hello"))) }
        let pending = Task { await howItEnds { _ = try await stream.receive() } }
        try await waitUntil(context, "the server's handler to receive the first message") { received.withLock { $0 } }
        await listener.close()
        _ = try await context.step("serve() to return after listener.close()") { try await serving.value }
        let ended = handlerEnded.withLock { $0 }
        try expect(ended != nil, "serve() returned after listener.close() while its handler was still waiting in receive()")
        try expect(ended == "nil" || ended == "TransportError",
                   "the handler's pending receive() after listener.close() ended with \(ended ?? ""), expected nil or a TransportError")
        let outcome = try await context.step("the client's receive() to end after listener.close()") { await pending.value }
        try expectEqual(outcome, "TransportError.connectionClosed", "the client's pending receive() after listener.close()")
    }

    /// A send after the stream's `close()` throws `TransportError.streamClosed`; a send
    /// or receive on a stream of a closed connection throws
    /// `TransportError.connectionClosed`.
    static func sendAfterCloseThrows(_ context: Context) async throws {
        let (listener, _) = try await context.serve(echo)
        let connection = try await context.dial(listener.address)
        let stream = try await context.step("openStream") { try await connection.openStream() }
        await stream.close()
        let afterStreamClose = try await context.step("send after stream close") {
            await howItEnds { try await stream.send(TransportMessage(body: buffer("late"))) }
        }
        try expectEqual(afterStreamClose, "TransportError.streamClosed", "send() after the stream's close()")
        let second = try await context.step("openStream") { try await connection.openStream() }
        await connection.close()
        try expect(!connection.isOpen, "connection.isOpen is true after close()")
        let afterConnectionClose = try await context.step("send after connection close") {
            await howItEnds { try await second.send(TransportMessage(body: buffer("late"))) }
        }
        try expectEqual(afterConnectionClose, "TransportError.connectionClosed", "send() on a stream of a closed connection")
        let received = try await context.step("receive on a closed connection") {
            await howItEnds { _ = try await second.receive() }
        }
        try expectEqual(received, "TransportError.connectionClosed", "receive() on a stream of a closed connection")
        let opened = try await context.step("openStream on a closed connection") {
            await howItEnds { _ = try await connection.openStream() }
        }
        try expect(opened.hasPrefix("TransportError."), "openStream() on a closed connection must throw a TransportError; it \(opened)")
    }

    /// Bodies of every size on one stream, both ways: the sizes around the points where a
    /// transport may change how it writes (TCP writes bodies over 8 KiB as buffers of
    /// their own) and past 64 KiB, interleaved with small ones, on two streams of one
    /// connection at once; every byte must arrive in order.
    static func mixedMessageSizesOnOneStream(_ context: Context) async throws {
        let sizes = mixedSizes
        let (listener, _) = try await context.serve { stream in
            do {
                var index = 0
                var problems: [String] = []
                while let message = try await stream.receive() {
                    let expected = index < sizes.count ? pattern(sizes[index], seed: index) : ByteBuffer()
                    if message.headers["x-index"] != "\(index)" {
                        problems.append("message \(index) carried X-Index \(message.headers["x-index"] ?? "nil")")
                    }
                    if message.body != expected {
                        problems.append("message \(index): \(message.body.readableBytes) bytes, expected \(expected.readableBytes) of the pattern")
                    }
                    // Echoed at once, so that answers of every size interleave with requests.
                    try await stream.send(TransportMessage(headers: ["X-Index": "\(index)"], body: message.body))
                    index += 1
                }
                for (index, size) in sizes.reversed().enumerated() {
                    try await stream.send(TransportMessage(headers: ["X-Index": "s\(index)"], body: pattern(size, seed: 100 + index)))
                }
                let summary: Metadata = ["X-Received": "\(index)", "X-Problems": problems.joined(separator: "; ")]
                try await stream.send(TransportMessage(headers: summary), endOfStream: true)
            } catch {
                await stream.close()
            }
        }
        let connection = try await context.dial(listener.address)
        let problems = try await withTimeout(context.options.timeout * 2, "two streams of mixed message sizes") {
            try await withThrowingTaskGroup(of: [String].self) { group in
                for label in ["first", "second"] {
                    group.addTask { try await exchangeMixedSizes(on: connection, label: label) }
                }
                var problems: [String] = []
                for try await found in group { problems += found }
                return problems
            }
        }
        try expect(problems.isEmpty, "mixed message sizes on one stream: \(problems.prefix(6).joined(separator: "; "))")
    }

    /// The body sizes ``mixedMessageSizesOnOneStream(_:)`` sends, in order; the last is
    /// large and goes with the end of stream.
    static let mixedSizes = [
        0, 1, 100, 8 * 1024 - 1, 8 * 1024, 8 * 1024 + 1, 5, 20_000, 64 * 1024, 64 * 1024 + 1, 3, 70_000, 200_000, 64,
        9_000,
    ]

    /// `size` bytes of a pattern that differs with `seed`: a 251-byte block copied over
    /// and over. The block's length is a prime, so it never lines up with the sizes where
    /// a transport splits or batches writes, and a piece lost, repeated or moved shows; it
    /// is made by copying, so that making and checking the patterns does not hold up the
    /// (two-thread) executor on a loaded machine.
    static func pattern(_ size: Int, seed: Int) -> ByteBuffer {
        let block = (0..<251).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed &* 7 &+ 1) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        var left = size
        while left > 0 {
            let count = min(left, block.count)
            buffer.writeBytes(block[0..<count])
            left -= count
        }
        return buffer
    }

    /// One stream of ``mixedMessageSizesOnOneStream(_:)``: sends the sizes while reading
    /// the echoes, then the server's own messages and summary; returns what was wrong.
    private static func exchangeMixedSizes(on connection: any TransportConnection, label: String) async throws -> [String] {
        let sizes = mixedSizes
        let stream = try await connection.openStream()
        let reader = Task { () -> [String] in
            var problems: [String] = []
            for index in sizes.indices {
                guard let echo = try await stream.receive() else { return problems + ["\(label): the stream ended before echo \(index)"] }
                if echo.headers["x-index"] != "\(index)" { problems.append("\(label): echo \(index) carried X-Index \(echo.headers["x-index"] ?? "nil")") }
                if echo.body != pattern(sizes[index], seed: index) {
                    problems.append("\(label): echo \(index) has \(echo.body.readableBytes) bytes, not the \(sizes[index]) sent")
                }
            }
            for (index, size) in sizes.reversed().enumerated() {
                guard let message = try await stream.receive() else { return problems + ["\(label): the stream ended before server message \(index)"] }
                if message.headers["x-index"] != "s\(index)" { problems.append("\(label): server message \(index) carried X-Index \(message.headers["x-index"] ?? "nil")") }
                if message.body != pattern(size, seed: 100 + index) {
                    problems.append("\(label): server message \(index) has \(message.body.readableBytes) bytes, expected \(size) of the pattern")
                }
            }
            guard let summary = try await stream.receive() else { return problems + ["\(label): no summary from the server"] }
            if summary.headers["x-received"] != "\(sizes.count)" {
                problems.append("\(label): the server received \(summary.headers["x-received"] ?? "nil") messages, not \(sizes.count)")
            }
            if let seen = summary.headers["x-problems"], !seen.isEmpty { problems.append("\(label): the server saw: \(seen)") }
            if try await stream.receive() != nil { problems.append("\(label): a message after the summary") }
            return problems
        }
        for (index, size) in sizes.enumerated() {
            let message = TransportMessage(headers: ["X-Index": "\(index)"], body: pattern(size, seed: index))
            try await stream.send(message, endOfStream: index == sizes.count - 1)
        }
        return try await reader.value
    }

    /// A stream one side abandons is reset on both: `reset()`, a missed deadline in
    /// `receive(before:)` or `roundTrip(_:before:)`, and a client task cancelled while it
    /// waits in `receive()` each cancel the server's handler, whose sends and receives
    /// then throw `TransportError.streamReset`, as do the client's; a server's `reset()`
    /// fails the client's receive and send with `TransportError.streamReset`; the
    /// connection keeps serving other streams.
    static func resetAbandonsTheStreamOnBothSides(_ context: Context) async throws {
        let started = MutexBox<Set<String>>([])
        // What each handler saw after its client gave up, by the label of its request.
        let ended = MutexBox<[String: String]>([:])
        let (listener, _) = try await context.serve { stream in
            guard let first = try? await stream.receive() else { return await stream.close() }
            let label = text(first.body)
            switch label {
            case "answer":
                try? await stream.send(TransportMessage(body: buffer("answered")), endOfStream: true)
                return
            case "reset by the server":
                await stream.reset()
                let send = await howItEnds { try await stream.send(TransportMessage(body: buffer("after reset"))) }
                ended.withLock { $0[label] = "send \(send)" }
                return
            default:
                break
            }
            started.withLock { _ = $0.insert(label) }
            // Until the client's reset cancels this task (or the step timeout passes).
            let sleep = await howItEnds { try await Task.sleep(for: context.options.timeout * 2) }
            let receive = await howItEnds { _ = try await stream.receive() }
            let send = await howItEnds { try await stream.send(TransportMessage(body: buffer("too late"))) }
            ended.withLock { $0[label] = "sleep \(sleep), receive \(receive), send \(send)" }
        }
        let connection = try await context.dial(listener.address)

        /// Waits for the handler of `label` to end and checks what it saw.
        @Sendable func expectHandlerCancelled(_ label: String, after what: String) async throws {
            try await waitUntil(context, "the server's handler of '\(label)' to end after \(what)") { ended.withLock { $0[label] } != nil }
            let seen = ended.withLock { $0[label] } ?? ""
            let receiveOK = seen.contains("receive TransportError.streamReset") || seen.contains("receive CancellationError")
            try expect(seen.hasPrefix("sleep CancellationError") && receiveOK && seen.hasSuffix("send TransportError.streamReset"),
                       "after \(what), the server's handler must be cancelled, and its receive throw TransportError.streamReset (or CancellationError) and its send TransportError.streamReset; it saw: \(seen)")
        }

        // reset() by the client.
        let reset = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await reset.send(TransportMessage(body: buffer("reset"))) }
        try await waitUntil(context, "the server's handler to start") { started.withLock { $0.contains("reset") } }
        await reset.reset()
        try await expectHandlerCancelled("reset", after: "the client's reset()")
        try expectEqual(await howItEnds { _ = try await reset.receive() }, "TransportError.streamReset", "receive() after this side's reset()")
        try expectEqual(await howItEnds { try await reset.send(TransportMessage(body: buffer("x"))) },
                        "TransportError.streamReset", "send() after this side's reset()")
        await reset.reset()  // a second reset does nothing

        // A missed deadline in receive(before:).
        let late = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await late.send(TransportMessage(body: buffer("deadline")), endOfStream: true) }
        try await waitUntil(context, "the server's handler to start") { started.withLock { $0.contains("deadline") } }
        let missed = try await context.step("receive(before: now + 50 ms)") {
            await howItEnds { _ = try await late.receive(before: .now + .milliseconds(50)) }
        }
        try expectEqual(missed, "TransportDeadlineExceeded", "receive(before:) from a server that does not answer")
        try await expectHandlerCancelled("deadline", after: "the client's missed receive deadline")
        try expectEqual(await howItEnds { _ = try await late.receive() }, "TransportError.streamReset", "receive() after a missed deadline")

        // A missed deadline in roundTrip(_:before:).
        let trip = try await context.step("roundTrip(before: now + 300 ms) to a server that does not answer") {
            await howItEnds { _ = try await connection.roundTrip(TransportMessage(body: buffer("round trip")), before: .now + .milliseconds(300)) }
        }
        try expectEqual(trip, "TransportDeadlineExceeded", "roundTrip(_:before:) to a server that does not answer")
        try await expectHandlerCancelled("round trip", after: "the client's missed round-trip deadline")

        // The client's task cancelled while it waits in receive().
        let cancelled = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await cancelled.send(TransportMessage(body: buffer("cancel"))) }
        try await waitUntil(context, "the server's handler to start") { started.withLock { $0.contains("cancel") } }
        let waiting = Task { await howItEnds { _ = try await cancelled.receive() } }
        try await Task.sleep(for: .milliseconds(20))  // usually waiting by now; either way it must end cancelled
        waiting.cancel()
        let outcome = try await context.step("the cancelled receive() to end") { await waiting.value }
        try expectEqual(outcome, "CancellationError", "a receive() whose task is cancelled")
        try await expectHandlerCancelled("cancel", after: "the client's task waiting in receive() was cancelled")

        // reset() by the server.
        let byServer = try await context.step("openStream") { try await connection.openStream() }
        try await context.step("send") { try await byServer.send(TransportMessage(body: buffer("reset by the server"))) }
        let serverReset = try await context.step("receive() from a server that resets the stream") {
            await howItEnds { _ = try await byServer.receive() }
        }
        try expectEqual(serverReset, "TransportError.streamReset", "receive() from a server that resets the stream")
        try expectEqual(await howItEnds { try await byServer.send(TransportMessage(body: buffer("x"))) },
                        "TransportError.streamReset", "send() after the server reset the stream")
        try await waitUntil(context, "the server's handler to end after its reset()") { ended.withLock { $0["reset by the server"] } != nil }
        try expectEqual(ended.withLock { $0["reset by the server"] }, "send TransportError.streamReset", "the server's send() after its own reset()")

        // The connection still serves.
        try expect(connection.isOpen, "the connection closed after its streams were reset")
        let answer = try await context.step("roundTrip after the resets") {
            try await connection.roundTrip(TransportMessage(body: buffer("answer")), before: .now + context.options.timeout)
        }
        try expectEqual(answer.map { text($0.body) }, "answered", "a round trip on the connection after its other streams were reset")
    }
}
