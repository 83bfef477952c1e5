/// Where services announce their nodes and clients find them.
///
/// Backends: `MemoryRegistry` (one process), `FileRegistry`, etcd, Consul, mDNS. Every
/// backend passes `RegistryConformance` from `MicroTesting`.
///
/// A registry that keeps heartbeats, watches or a client connection of its own starts
/// and stops them through ``PluginLifecycle``; the runtime shuts it down last, after the
/// service deregistered and closed its listener. ``RegistryCache`` is the registry as
/// plugins see it on their per-call path.
public protocol Registry: PluginLifecycle {
    /// Adds or refreshes the nodes of `service`.
    ///
    /// - Parameters:
    ///   - service: the record to store; every node in it is registered.
    ///   - ttl: how long the nodes stay visible without being registered again; `nil`
    ///     keeps them until ``deregister(_:)``.
    func register(_ service: ServiceRecord, ttl: Duration?) async throws

    /// Removes the nodes of `service` (matched by node id).
    func deregister(_ service: ServiceRecord) async throws

    /// The records of service `name`, one per version with that version's nodes merged;
    /// empty when no live node of that name is registered.
    func getService(_ name: String) async throws -> [ServiceRecord]

    /// Every registered service; a record may hold only the name.
    func listServices() async throws -> [ServiceRecord]

    /// Changes to the registry from now on, for one service or (`nil`) for all.
    ///
    /// The sequence is ready when this returns: a change made after it returns is
    /// delivered. It ends when the iterating task is cancelled or the sequence is dropped.
    func watch(service: String?) async throws -> RegistryWatch
}

extension Registry {
    /// Registers `service` with no expiry.
    public func register(_ service: ServiceRecord) async throws {
        try await register(service, ttl: nil)
    }

    /// Watches every service.
    public func watch() async throws -> RegistryWatch {
        try await watch(service: nil)
    }
}

/// A change reported by ``Registry/watch(service:)``.
public struct RegistryEvent: Sendable, Hashable {
    /// What happened, go-micro's watcher `Action`.
    public enum Action: String, Sendable, Hashable, Codable {
        /// A node appeared.
        case create
        /// A known node changed or was refreshed with new data.
        case update
        /// A node went away (deregistered or expired). A record with no nodes means the
        /// whole service went away.
        case delete
    }

    /// What happened.
    public var action: Action
    /// The service, usually holding only the node(s) that changed.
    public var service: ServiceRecord

    /// Creates an event.
    public init(action: Action, service: ServiceRecord) {
        self.action = action
        self.service = service
    }
}

/// The events of a registry watch.
public typealias RegistryWatch = EventStream<RegistryEvent>
