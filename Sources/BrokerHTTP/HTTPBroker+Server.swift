import Logging
import MicroCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

extension HTTPBroker {
    /// The subscribers' HTTP/1.1 listener: go-micro's `POST /?id=<node-id>` deliveries.
    ///
    /// Answers: 200 (empty body) once the consumer acknowledged; 500 when it rejected;
    /// 503 when the subscription is busy or ended; 504 when it did not settle within the
    /// delivery timeout; 405 for another method; 404 for an unknown id; 400 for a body
    /// that is not go-micro's message; 413 (and the connection closed) for a body over the
    /// limit. A request stalled for the read timeout, or a connection idle for the idle
    /// timeout, is closed. Every error answer is a short text.
    struct Server: Sendable {
        typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

        /// The bound port.
        let port: Int
        private let channel: any Channel
        private let acceptor: Task<Void, Never>

        /// Binds `address` and serves deliveries to `broker`'s subscriptions.
        static func start(on address: HostPort, broker: HTTPBroker) async throws -> Server {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
            guard let port = listener.channel.localAddress?.port else {
                try? await listener.channel.close()
                throw BrokerError(.unavailable, "the listener on \(address) has no port")
            }
            let channel = listener.channel
            // The broker is held weakly: a broker dropped without shutdown() still goes away.
            let acceptor = Task { [weak broker] in
                await withDiscardingTaskGroup { group in
                    do {
                        try await listener.executeThenClose { inbound in
                            for try await connection in inbound {
                                group.addTask { [weak broker] in
                                    await Server.serve(connection, broker: broker)
                                }
                            }
                        }
                    } catch {
                        broker?.logger.debug("the HTTP broker's listener ended", metadata: ["error": "\(error)"])
                    }
                    group.cancelAll()
                }
            }
            return Server(port: port, channel: channel, acceptor: acceptor)
        }

        /// Closes the listener and every connection (deliveries in flight are cancelled),
        /// and waits until they are gone.
        func close() async {
            try? await channel.close()
            acceptor.cancel()
            await acceptor.value
        }

        /// Serves one connection's requests in turn until it closes.
        private static func serve(_ connection: Connection, broker: HTTPBroker?) async {
            guard let broker else {
                try? await connection.channel.close()
                return
            }
            let configuration = broker.configuration
            let timer = ConnectionTimer(channel: connection.channel)
            timer.arm(configuration.idleTimeout)
            defer { timer.disarm() }
            do {
                try await connection.executeThenClose { inbound, outbound in
                    var head: HTTPRequestHead?
                    var body = ByteBuffer()
                    for try await part in inbound {
                        switch part {
                        case .head(let requestHead):
                            timer.arm(configuration.readTimeout)
                            if let length = requestHead.headers.first(name: "content-length").flatMap({ Int($0) }),
                                length > configuration.maxBodySize
                            {
                                try await respond(outbound, .payloadTooLarge, "the body of \(length) bytes is over the limit of \(configuration.maxBodySize) bytes", close: true)
                                return
                            }
                            head = requestHead
                            body.clear()
                        case .body(var chunk):
                            guard head != nil else { continue }
                            guard body.readableBytes + chunk.readableBytes <= configuration.maxBodySize else {
                                try await respond(outbound, .payloadTooLarge, "the body is over the limit of \(configuration.maxBodySize) bytes", close: true)
                                return
                            }
                            body.writeBuffer(&chunk)
                        case .end:
                            timer.disarm()
                            guard let requestHead = head else { continue }
                            head = nil
                            let (status, text) = await broker.answer(requestHead, body: body)
                            let keepAlive = requestHead.isKeepAlive
                            try await respond(outbound, status, text, close: !keepAlive)
                            if !keepAlive { return }
                            timer.arm(configuration.idleTimeout)
                        }
                    }
                }
            } catch {
                broker.logger.trace("an HTTP broker connection ended", metadata: ["error": "\(error)"])
            }
        }

        private static func respond(
            _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, _ status: HTTPResponseStatus, _ text: String, close: Bool
        ) async throws {
            var headers = HTTPHeaders()
            let body = text.isEmpty ? ByteBuffer() : ByteBuffer(string: text + "\n")
            if !text.isEmpty { headers.add(name: "Content-Type", value: "text/plain; charset=utf-8") }
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            if close { headers.add(name: "Connection", value: "close") }
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            if body.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(body))) }
            try await outbound.write(.end(nil))
        }
    }

    /// Closes a connection when its timer runs out: a stalled request or an idle
    /// keep-alive connection.
    final class ConnectionTimer: Sendable {
        private let channel: any Channel
        private let scheduled = Mutex<Scheduled<Void>?>(nil)

        init(channel: any Channel) {
            self.channel = channel
        }

        /// Closes the connection after `timeout`, unless armed again or disarmed first.
        func arm(_ timeout: Duration) {
            let channel = self.channel
            let task = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
                channel.close(promise: nil)
            }
            scheduled.withLock { current in
                defer { current = task }
                return current
            }?.cancel()
        }

        /// Stops the timer.
        func disarm() {
            scheduled.withLock { state in
                defer { state = nil }
                return state
            }?.cancel()
        }
    }

    /// The answer to one complete request.
    func answer(_ head: HTTPRequestHead, body: ByteBuffer) async -> (HTTPResponseStatus, String) {
        guard head.method == .POST else {
            return (.methodNotAllowed, "the HTTP broker takes POST /?id=<node-id>, not \(head.method)")
        }
        guard let id = HTTPBroker.queryValue("id", in: head.uri), !id.isEmpty else {
            return (.notFound, "no subscriber id: the HTTP broker takes POST /?id=<node-id>")
        }
        guard let (topic, inbox) = inbox(for: id) else {
            return (.notFound, "no subscriber \(id) here")
        }
        let envelope: HTTPBrokerEnvelope
        do {
            envelope = try HTTPBrokerEnvelope(decoding: body)
        } catch {
            return (.badRequest, error.description)
        }
        guard let messageTopic = envelope.headers[MicroHeader.topic] else {
            return (.badRequest, "the message's Header has no Micro-Topic")
        }
        guard messageTopic == topic else {
            return (.badRequest, "the message is for topic \(messageTopic); subscriber \(id) takes \(topic)")
        }
        do {
            try await inbox.deliver(BrokerMessage(headers: envelope.headers, body: envelope.body), timeout: configuration.deliveryTimeout)
            return (.ok, "")
        } catch let error as BrokerError {
            switch error.code {
            case .busy, .unsubscribed: return (.serviceUnavailable, error.description)
            case .timedOut: return (.gatewayTimeout, error.description)
            default: return (.internalServerError, error.description)
            }
        } catch is CancellationError {
            return (.serviceUnavailable, "unavailable: the HTTP broker is shutting down")
        } catch {
            return (.internalServerError, "the subscriber rejected the message: \(error)")
        }
    }

    /// The value of `name` in the query of `uri`, percent- and `+`-decoded.
    static func queryValue(_ name: String, in uri: String) -> String? {
        guard let question = uri.firstIndex(of: "?") else { return nil }
        var query = uri[uri.index(after: question)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = percentDecoded(parts[0]), key == name else { continue }
            return parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return nil
    }

    /// `%XX` and `+` (a space) decoded; `nil` when malformed.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` escaped as Go's `url.QueryEscape` does: letters, digits and `-_.~` kept,
    /// space as `+`, every other byte `%XX`.
    static func queryEscaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

extension Duration {
    /// The whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
