public import MicroCore
import Synchronization

/// A ``MemoryTransport`` listener bound to one address.
public final class MemoryListener: TransportListener {
    /// The bound address, such as `memory:1`.
    public let address: String

    private struct State {
        var isClosed = false
        var isAccepting = true
        var isServing = false
        var connections: [UInt64: MemoryConnectionCore] = [:]
        var nextConnection: UInt64 = 0
    }

    private let state = Mutex(State())
    private let incoming: AsyncStream<MemoryStream>
    private let incomingContinuation: AsyncStream<MemoryStream>.Continuation
    private let unbind: @Sendable (MemoryListener) -> Void

    init(address: String, unbind: @escaping @Sendable (MemoryListener) -> Void) {
        self.address = address
        self.unbind = unbind
        (incoming, incomingContinuation) = AsyncStream.makeStream()
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        state.withLock { $0.isClosed }
    }

    /// The number of connected clients.
    public var connectionCount: Int {
        state.withLock { $0.connections.count }
    }

    /// Runs `handler` for each new stream, concurrently, until ``close()``; returns once
    /// every handler it started has returned.
    ///
    /// - Throws: ``MicroCore/TransportError`` when the listener is already serving.
    public func serve(_ handler: @escaping @Sendable (any TransportStream) async -> Void) async throws {
        let alreadyServing = state.withLock { state in
            defer { state.isServing = true }
            return state.isServing
        }
        if alreadyServing {
            throw TransportError(.invalidAddress, "memory transport: \(address) is already being served")
        }
        let incoming = self.incoming
        await withDiscardingTaskGroup { group in
            for await stream in incoming {
                group.addTask { await stream.serve(with: handler) }
            }
        }
    }

    /// Refuses new connections; those already made keep working until ``close()``.
    public func stopAccepting() async {
        state.withLock { $0.isAccepting = false }
    }

    /// Stops accepting, frees the address, closes the connections and makes
    /// ``serve(_:)`` return.
    public func close() async {
        let connections = state.withLock { state -> [MemoryConnectionCore]? in
            guard !state.isClosed else { return nil }
            state.isClosed = true
            defer { state.connections = [:] }
            return Array(state.connections.values)
        }
        guard let connections else { return }
        unbind(self)
        incomingContinuation.finish()
        for connection in connections {
            connection.close(reason: "was closed by the listener")
        }
    }

    /// A new connection from a client.
    func connect() throws(TransportError) -> MemoryConnectionCore {
        try state.withLock { (state) throws(TransportError) -> MemoryConnectionCore in
            guard !state.isClosed else {
                throw TransportError(.connectFailed, "memory transport: no listener at \(address)")
            }
            guard state.isAccepting else {
                throw TransportError(.connectFailed, "memory transport: the listener at \(address) no longer accepts connections")
            }
            state.nextConnection &+= 1
            let core = MemoryConnectionCore(id: state.nextConnection, address: address)
            state.connections[core.id] = core
            return core
        }
    }

    /// Hands the server end of a new stream to ``serve(_:)``.
    func accept(_ stream: MemoryStream) throws(TransportError) {
        let closed = state.withLock { $0.isClosed }
        if !closed, case .enqueued = incomingContinuation.yield(stream) { return }
        throw TransportError(.connectionClosed, "memory transport: listener at \(address) is closed")
    }

    /// Forgets a connection its client closed.
    func detach(_ connection: MemoryConnectionCore) {
        state.withLock { _ = $0.connections.removeValue(forKey: connection.id) }
    }
}
