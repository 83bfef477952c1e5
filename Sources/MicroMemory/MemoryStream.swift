public import MicroCore

/// One end of a stream of a ``MemoryTransport`` connection.
///
/// Messages are handed over without copying the body. ``close()`` is a half close: the
/// peer's ``receive()`` returns `nil` after the messages sent before it. ``reset()``
/// abandons the stream on both ends; the client's end resets itself when a receive
/// misses its deadline or its task is cancelled, and a client's reset cancels the
/// server's handler.
public struct MemoryStream: TransportStream {
    private let inbound: MemoryPipe
    private let outbound: MemoryPipe
    private let connection: MemoryConnectionCore
    private let control: MemoryStreamControl
    private let id: UInt64
    private let isClient: Bool

    init(control: MemoryStreamControl, isClient: Bool, connection: MemoryConnectionCore, id: UInt64) {
        self.inbound = isClient ? control.toClient : control.toServer
        self.outbound = isClient ? control.toServer : control.toClient
        self.control = control
        self.isClient = isClient
        self.connection = connection
        self.id = id
    }

    /// Sends a message to the peer.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.streamClosed` after ``close()``,
    ///   `.connectionClosed` when the connection is gone, `.streamReset` after a reset.
    public func send(_ message: TransportMessage) async throws {
        try outbound.send(message)
    }

    /// The next message from the peer; `nil` once the peer closed its side.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.connectionClosed` when the connection
    ///   closed before the peer did, `.streamReset` after a reset; `CancellationError`
    ///   when the task is cancelled (which resets a client's stream).
    public func receive() async throws -> TransportMessage? {
        do {
            return try await inbound.receive()
        } catch let error as CancellationError {
            if isClient { control.reset(byClient: true) }
            throw error
        }
    }

    /// Says this side sends no more messages.
    public func close() async {
        outbound.closeSending()
        if inbound.isSenderClosed {
            connection.release(id)
        }
    }

    /// Abandons the stream on both ends; see ``MicroCore/TransportStream/reset()``.
    public func reset() async {
        control.reset(byClient: isClient)
    }

    /// Runs the server's handler for this (server) end in a task that a client's reset
    /// cancels.
    func serve(with handler: @escaping @Sendable (any TransportStream) async -> Void) async {
        let stream = self
        let task = Task { await handler(stream) }
        control.attachHandler(task)
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
