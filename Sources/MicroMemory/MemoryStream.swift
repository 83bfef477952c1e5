public import MicroCore

/// One end of a stream of a ``MemoryTransport`` connection.
///
/// Messages are handed over without copying the body. ``close()`` is a half close: the
/// peer's ``receive()`` returns `nil` after the messages sent before it.
public struct MemoryStream: TransportStream {
    private let inbound: MemoryPipe
    private let outbound: MemoryPipe
    private let connection: MemoryConnectionCore
    private let id: UInt64

    init(inbound: MemoryPipe, outbound: MemoryPipe, connection: MemoryConnectionCore, id: UInt64) {
        self.inbound = inbound
        self.outbound = outbound
        self.connection = connection
        self.id = id
    }

    /// Sends a message to the peer.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.streamClosed` after ``close()``,
    ///   `.connectionClosed` when the connection is gone.
    public func send(_ message: TransportMessage) async throws {
        try outbound.send(message)
    }

    /// The next message from the peer; `nil` once the peer closed its side.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.connectionClosed` when the connection
    ///   closed before the peer did; `CancellationError` when the task is cancelled.
    public func receive() async throws -> TransportMessage? {
        try await inbound.receive()
    }

    /// Says this side sends no more messages.
    public func close() async {
        outbound.closeSending()
        if inbound.isSenderClosed {
            connection.release(id)
        }
    }
}
