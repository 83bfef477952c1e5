import MicroCore
import Synchronization

/// A client's connections, a few per address, shared by all calls.
///
/// Transports multiplex many streams on one connection, so a pool needs only a handful:
/// up to `size` per address, used in turn. A connection that closed (idle timeout, peer
/// gone) is dropped and replaced when its turn comes. Concurrent calls to a new address make
/// one dial.
final class ConnectionPool: Sendable {
    /// One address's connections; a class, so the last one used is kept at hand.
    private final class Entry {
        var connections: [any TransportConnection] = []
        var next = 0
        var dialing: Task<any TransportConnection, any Error>?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// The entry of the address asked for last: a client calling one service asks
        /// for the same address again and again, and comparing the address with the
        /// last one's is cheaper than hashing it.
        var last: (address: String, entry: Entry)?

        /// The entry of `address`, created when missing.
        mutating func entry(_ address: String) -> Entry {
            if let last, last.address == address { return last.entry }
            let entry: Entry
            if let existing = entries[address] {
                entry = existing
            } else {
                entry = Entry()
                entries[address] = entry
            }
            last = (address, entry)
            return entry
        }
    }

    private let transport: any Transport
    private let size: Int
    private let dialTimeout: Duration
    private let state = Mutex(State())

    init(transport: any Transport, size: Int, dialTimeout: Duration) {
        self.transport = transport
        self.size = max(1, size)
        self.dialTimeout = dialTimeout
    }

    /// A connection to `address`, dialled if needed.
    ///
    /// Inlined into the caller: when a connection is open, it returns without a frame of
    /// its own.
    @inline(__always)
    func connection(to address: String) async throws -> any TransportConnection {
        switch step(for: address) {
        case .use(let connection): return connection
        case .wait(let dialing): return try await connection(to: address, dialing: dialing)
        }
    }

    /// What ``connection(to:)`` does next: use an open connection, or wait for a dial.
    private enum Step {
        case use(any TransportConnection)
        case wait(Task<any TransportConnection, any Error>)
    }

    /// The next open connection to `address` in turn, or the dial to wait for (started
    /// when the address has fewer than `size` connections).
    private func step(for address: String) -> Step {
        state.withLock { state in
            let entry = state.entry(address)
            // In turn; a connection that closed is dropped when its turn comes, so a
            // call asks one connection whether it is open, not all of them.
            while entry.connections.count >= size || (entry.dialing != nil && !entry.connections.isEmpty) {
                entry.next = (entry.next + 1) % entry.connections.count
                let connection = entry.connections[entry.next]
                if connection.isOpen { return .use(connection) }
                entry.connections.remove(at: entry.next)
                entry.next -= 1
            }
            if let dialing = entry.dialing { return .wait(dialing) }
            let dialing = Task { [transport, dialTimeout] in
                try await transport.dial(address, timeout: dialTimeout)
            }
            entry.dialing = dialing
            return .wait(dialing)
        }
    }

    /// Waits for `dialing`, then adds its connection to the pool.
    private func connection(
        to address: String, dialing: Task<any TransportConnection, any Error>
    ) async throws -> any TransportConnection {
        let result = await dialing.result
        state.withLock { state in
            guard let entry = state.entries[address], entry.dialing == dialing else { return }
            entry.dialing = nil
            if case .success(let connection) = result { entry.connections.append(connection) }
        }
        return try result.get()
    }

    /// Drops a connection that failed, so the next call dials afresh.
    func discard(_ connection: any TransportConnection) async {
        state.withLock { state in
            state.entries[connection.address]?.connections.removeAll { $0 === connection }
        }
        await connection.close()
    }

    /// Closes every connection.
    func close() async {
        let all = state.withLock { state in
            defer { state = State() }
            return state.entries.values.flatMap(\.connections)
        }
        for connection in all { await connection.close() }
    }
}

/// Whether two connections are the same object (a value-type connection never matches,
/// and is dropped from the pool once it reports `isOpen == false`).
private func === (lhs: any TransportConnection, rhs: any TransportConnection) -> Bool {
    (lhs as AnyObject) === (rhs as AnyObject)
}
