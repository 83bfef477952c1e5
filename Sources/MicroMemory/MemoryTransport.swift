public import MicroCore
import Synchronization

/// An in-process "network": listeners bind names, clients dial them, and messages move
/// between tasks without copying or sockets.
///
/// Addresses look like `memory:1`. Listening on an empty address or one whose port is
/// `0` (`memory:0`, `127.0.0.1:0`) binds a fresh unique address; listening on an address
/// already bound throws. Every instance is its own network; ``shared`` is the one the
/// `memory` plugin hands out, so that a client and a server in one process that both
/// choose `--transport memory` reach each other.
public final class MemoryTransport: Transport {
    /// The process-wide instance made by ``MicroCore/Plugin/memoryTransport``.
    public static let shared = MemoryTransport()

    private struct State {
        var listeners: [String: MemoryListener] = [:]
        var nextPort = 0
    }

    private let state = Mutex(State())

    /// Creates a network with no listeners, separate from every other instance.
    public init() {}

    /// Connects to the listener bound at `address`.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.connectFailed` when nothing listens
    ///   there.
    public func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        guard let listener = state.withLock({ $0.listeners[address] }) else {
            throw TransportError(.connectFailed, "memory transport: no listener at \(address)")
        }
        let core = try listener.connect()
        return MemoryConnection(address: address, core: core, listener: listener)
    }

    /// Binds `address`, or a fresh `memory:N` (`host:N`) for an empty address or port 0.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.invalidAddress` when the address is
    ///   already bound.
    public func listen(_ address: String) async throws -> any TransportListener {
        try bind(address)
    }

    /// The addresses bound now, sorted.
    public var boundAddresses: [String] {
        state.withLock { $0.listeners.keys.sorted() }
    }

    private func bind(_ address: String) throws(TransportError) -> MemoryListener {
        try state.withLock { (state) throws(TransportError) -> MemoryListener in
            var bound = address
            if address.isEmpty || address.hasSuffix(":0") {
                let host = address.isEmpty ? "memory" : String(address.dropLast(2))
                repeat {
                    state.nextPort += 1
                    bound = "\(host.isEmpty ? "memory" : host):\(state.nextPort)"
                } while state.listeners[bound] != nil
            } else if state.listeners[bound] != nil {
                throw TransportError(.invalidAddress, "memory transport: address \(address) is already in use")
            }
            let listener = MemoryListener(address: bound) { [weak self] listener in
                self?.unbind(listener)
            }
            state.listeners[bound] = listener
            return listener
        }
    }

    private func unbind(_ listener: MemoryListener) {
        state.withLock { state in
            if state.listeners[listener.address] === listener {
                state.listeners[listener.address] = nil
            }
        }
    }
}
