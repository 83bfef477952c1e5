public import MicroCore
import Synchronization

/// A registry that lives in this process: for tests and single-process applications.
///
/// Nodes registered with a TTL become invisible once it passes without a new
/// registration; they are then removed and watchers get a `delete` event. Every instance
/// is its own store; ``shared`` is the one the `memory` plugin hands out, so that two
/// services in one process that both choose `--registry memory` see each other.
public final class MemoryRegistry: Registry {
    /// The process-wide instance made by ``MicroCore/Plugin/memoryRegistry``.
    public static let shared = MemoryRegistry()

    /// One registered node and the service data it was registered with.
    private struct Entry {
        var service: ServiceRecord
        var node: Node
        var expiry: ContinuousClock.Instant?
        var sequence: UInt64

        /// The service data with this one node.
        var record: ServiceRecord {
            var record = service
            record.nodes = [node]
            return record
        }
    }

    private struct Watcher {
        var service: String?
        var continuation: RegistryWatch.Continuation
    }

    private struct State {
        /// Service name → node id → entry.
        var entries: [String: [String: Entry]] = [:]
        var watchers: [UInt64: Watcher] = [:]
        var nextID: UInt64 = 0

        mutating func makeID() -> UInt64 {
            nextID &+= 1
            return nextID
        }

        /// Sends `event` to the watchers of its service.
        func notify(_ event: RegistryEvent) {
            for watcher in watchers.values where watcher.service == nil || watcher.service == event.service.name {
                watcher.continuation.yield(event)
            }
        }

        /// Removes the entries whose TTL has passed at `now`, telling watchers.
        mutating func removeExpired(now: ContinuousClock.Instant) {
            for (name, nodes) in entries {
                for (id, entry) in nodes {
                    guard let expiry = entry.expiry, expiry <= now else { continue }
                    entries[name]?[id] = nil
                    notify(RegistryEvent(action: .delete, service: entry.record))
                }
                if entries[name]?.isEmpty == true { entries[name] = nil }
            }
        }
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// Creates an empty registry, separate from every other instance.
    public init() {}

    /// Adds or refreshes the nodes of `service`; with a `ttl`, each node disappears once
    /// it passes without another registration.
    public func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        let now = clock.now
        let expiry = ttl.map { now.advanced(by: $0) }
        var template = service
        template.nodes = []
        state.withLock { state in
            state.removeExpired(now: now)
            for node in service.nodes {
                let known = state.entries[service.name]?[node.id]
                let entry = Entry(
                    service: template, node: node, expiry: expiry,
                    sequence: known?.sequence ?? state.makeID()
                )
                state.entries[service.name, default: [:]][node.id] = entry
                state.notify(RegistryEvent(action: known == nil ? .create : .update, service: entry.record))
            }
        }
        if let ttl, !service.nodes.isEmpty {
            scheduleExpiry(after: ttl)
        }
    }

    /// Removes the nodes of `service`, matched by node id; unknown nodes are ignored.
    public func deregister(_ service: ServiceRecord) async throws {
        let now = clock.now
        state.withLock { state in
            state.removeExpired(now: now)
            for node in service.nodes {
                guard let entry = state.entries[service.name]?.removeValue(forKey: node.id) else { continue }
                state.notify(RegistryEvent(action: .delete, service: entry.record))
            }
            if state.entries[service.name]?.isEmpty == true { state.entries[service.name] = nil }
        }
    }

    /// The records of `name`, one per version, with that version's live nodes in the
    /// order they were first registered; empty for an unknown name.
    public func getService(_ name: String) async throws -> [ServiceRecord] {
        let now = clock.now
        let entries = state.withLock { state in
            state.removeExpired(now: now)
            return Array((state.entries[name] ?? [:]).values)
        }
        return MemoryRegistry.merge(entries)
    }

    /// Every service with a live node: one record per name and version, without nodes.
    public func listServices() async throws -> [ServiceRecord] {
        let now = clock.now
        let entries = state.withLock { state in
            state.removeExpired(now: now)
            return state.entries.values.flatMap(\.values)
        }
        var seen = Set<[String]>()
        var records: [ServiceRecord] = []
        for entry in entries.sorted(by: { $0.sequence < $1.sequence })
        where seen.insert([entry.service.name, entry.service.version]).inserted {
            records.append(ServiceRecord(name: entry.service.name, version: entry.service.version))
        }
        return records
    }

    /// Changes from now on, for `service` or (`nil`) every service.
    ///
    /// The watch ends when the iterating task is cancelled or stops iterating.
    public func watch(service: String?) async throws -> RegistryWatch {
        let id = state.withLock { $0.makeID() }
        let (stream, continuation) = RegistryWatch.makeStream { [weak self] in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        state.withLock { $0.watchers[id] = Watcher(service: service, continuation: continuation) }
        return stream
    }

    /// The number of open watches; for tests that check a watch is released.
    public var watcherCount: Int {
        state.withLock { $0.watchers.count }
    }

    /// Sweeps expired nodes once `ttl` has passed, so watchers hear of the expiry even
    /// when nobody reads the registry.
    private func scheduleExpiry(after ttl: Duration) {
        let deadline = clock.now.advanced(by: ttl)
        Task { [weak self, clock] in
            try? await Task.sleep(until: deadline, tolerance: .milliseconds(5), clock: clock)
            guard let self else { return }
            let now = clock.now
            self.state.withLock { $0.removeExpired(now: now) }
        }
    }

    /// Groups entries into one record per version, nodes in registration order.
    private static func merge(_ entries: [Entry]) -> [ServiceRecord] {
        var records: [ServiceRecord] = []
        var index: [String: Int] = [:]
        for entry in entries.sorted(by: { $0.sequence < $1.sequence }) {
            if let position = index[entry.service.version] {
                records[position].nodes.append(entry.node)
            } else {
                index[entry.service.version] = records.count
                records.append(entry.record)
            }
        }
        return records
    }
}
