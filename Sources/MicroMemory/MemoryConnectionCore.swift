import MicroCore
import Synchronization

/// The state both ends of one memory connection share: whether it is open and the pipes
/// of its unfinished streams, so that closing it fails them.
final class MemoryConnectionCore: Sendable {
    /// The connection's number within its listener.
    let id: UInt64
    /// The listener's address.
    let address: String

    private struct State {
        var isOpen = true
        var streams: [UInt64: [MemoryPipe]] = [:]
        var nextStream: UInt64 = 0
    }

    private let state = Mutex(State())

    init(id: UInt64, address: String) {
        self.id = id
        self.address = address
    }

    /// Whether the connection can still open streams.
    var isOpen: Bool {
        state.withLock { $0.isOpen }
    }

    /// The number of streams not yet closed by both sides.
    var streamCount: Int {
        state.withLock { $0.streams.count }
    }

    /// Registers the two pipes of a new stream; returns its id.
    func addStream(_ pipes: [MemoryPipe]) throws(TransportError) -> UInt64 {
        try state.withLock { (state) throws(TransportError) -> UInt64 in
            guard state.isOpen else {
                throw TransportError(.connectionClosed, "memory transport: connection to \(address) is closed")
            }
            state.nextStream &+= 1
            state.streams[state.nextStream] = pipes
            return state.nextStream
        }
    }

    /// Forgets a stream both sides have closed.
    func release(_ stream: UInt64) {
        state.withLock { _ = $0.streams.removeValue(forKey: stream) }
    }

    /// Closes the connection and fails its open streams; returns whether this call
    /// closed it.
    @discardableResult
    func close(reason: String) -> Bool {
        let pipes = state.withLock { state -> [MemoryPipe]? in
            guard state.isOpen else { return nil }
            state.isOpen = false
            defer { state.streams = [:] }
            return state.streams.values.flatMap { $0 }
        }
        guard let pipes else { return false }
        let error = TransportError(.connectionClosed, "memory transport: connection to \(address) \(reason)")
        for pipe in pipes { pipe.fail(error) }
        return true
    }
}
