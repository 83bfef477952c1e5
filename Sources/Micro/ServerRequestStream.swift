import MicroCore

/// The requests a client sends on a stream, as a stream handler reads them.
///
/// The sequence ends when the client closes its side (`Micro-Error: EOS` or the end of
/// the transport stream). A request that does not decode throws a 400 ``MicroError``.
public struct ServerRequestStream<Request: Sendable>: AsyncSequence, Sendable {
    let call: ServerCall

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(call: call, pendingFirst: call.first.body.readableBytes > 0)
    }

    /// Iterates the requests.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: ServerCall
        /// A client that puts its first request in the opening message (as go-micro
        /// does) has it delivered first.
        var pendingFirst: Bool
        var finished = false

        /// The next request, or `nil` when the client has closed its side.
        public mutating func next() async throws -> Request? {
            if pendingFirst {
                pendingFirst = false
                return try call.decode(Request.self, from: call.first.body)
            }
            guard !finished, let message = try await call.stream.receive() else {
                finished = true
                return nil
            }
            if let error = message.headers[MicroHeader.error] {
                finished = true
                if error == MicroHeader.endOfStream { return nil }
                throw MicroError.parse(error)
            }
            return try call.decode(Request.self, from: message.body)
        }
    }
}

/// Sends a stream handler's answers to the client.
public struct ServerResponseWriter<Response: Sendable>: Sendable {
    let call: ServerCall

    /// Sends one answer.
    public func send(_ response: Response) async throws {
        try await call.reply(try call.encode(response))
    }
}
