import MicroCore
import Synchronization

/// What both ends of one memory stream share to reset it: its two pipes, and the task
/// running the server's handler, cancelled when the client resets the stream.
final class MemoryStreamControl: Sendable {
    private struct State {
        var isReset = false
        var handlerTask: Task<Void, Never>?
    }

    /// Messages from the client to the server.
    let toServer: MemoryPipe
    /// Messages from the server to the client.
    let toClient: MemoryPipe
    private let connection: MemoryConnectionCore
    private let id: UInt64
    private let state = Mutex(State())

    init(toServer: MemoryPipe, toClient: MemoryPipe, connection: MemoryConnectionCore, id: UInt64) {
        self.toServer = toServer
        self.toClient = toClient
        self.connection = connection
        self.id = id
    }

    /// Keeps the task running the server's handler; cancels it at once when the client
    /// already reset the stream.
    func attachHandler(_ task: Task<Void, Never>) {
        let cancel = state.withLock { state -> Bool in
            guard !state.isReset else { return true }
            state.handlerTask = task
            return false
        }
        if cancel { task.cancel() }
    }

    /// Resets the stream from the client's side (`byClient`) or the server's: both pipes
    /// fail with ``MicroCore/TransportError/Code/streamReset`` (saying on each side who
    /// reset it), the connection forgets the stream, and a client's reset cancels the
    /// server's handler. Does nothing the second time, or once both sides have closed.
    func reset(byClient: Bool) {
        let handler = state.withLock { state -> Task<Void, Never>?? in
            guard !state.isReset else { return nil }
            state.isReset = true
            return .some(state.handlerTask)
        }
        guard let handler else { return }
        guard !(toServer.isSenderClosed && toClient.isSenderClosed) else { return }
        let byThisSide = TransportError(.streamReset, "memory transport: stream \(id) to \(connection.address) was reset by this side")
        let byThePeer = TransportError(.streamReset, "memory transport: stream \(id) to \(connection.address) was reset by the peer")
        let client = byClient ? byThisSide : byThePeer
        let server = byClient ? byThePeer : byThisSide
        toServer.reset(receiverError: server, senderError: client)
        toClient.reset(receiverError: client, senderError: server)
        connection.release(id)
        if byClient { handler?.cancel() }
    }
}
