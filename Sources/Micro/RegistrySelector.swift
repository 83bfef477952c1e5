public import MicroCore
import Synchronization

/// The plain selector: asks the registry on every selection, then filters and applies a
/// strategy.
///
/// A node whose call failed with a connection error is avoided for `cooldown` while
/// other nodes remain, so a retry goes elsewhere and a crashed node stops costing calls
/// before its registration expires. (go-micro's `Mark` is a no-op; this is the one place
/// swift-micro keeps state per node.)
public final class RegistrySelector: Selector {
    private let registry: any Registry
    private let strategy: any SelectStrategy
    private let cooldown: Duration
    private let failed = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Creates a selector.
    ///
    /// - Parameters:
    ///   - registry: where nodes are found.
    ///   - strategy: the default strategy; random unless given.
    ///   - cooldown: how long a node that could not be reached is avoided; default 5 s.
    public init(registry: any Registry, strategy: any SelectStrategy = RandomStrategy(), cooldown: Duration = .seconds(5)) {
        self.registry = registry
        self.strategy = strategy
        self.cooldown = cooldown
    }

    /// A node of `service`, avoiding nodes that recently could not be reached.
    public func select(_ service: String, options: SelectOptions) async throws -> Node {
        let records: [ServiceRecord]
        do {
            records = try await registry.getService(service)
        } catch let error as MicroError {
            throw error
        } catch {
            throw MicroError.serviceUnavailable("registry lookup of service \(service) failed: \(error)")
        }
        return try NodeChoice.choose(
            service, from: records, options: options, strategy: strategy, avoiding: recentlyFailed()
        )
    }

    /// Remembers connection failures; a success clears the node.
    public func mark(_ service: String, node: Node, error: (any Error)?) async {
        let isConnectionFailure = error is TransportError
        failed.withLock { failed in
            if isConnectionFailure {
                failed[node.id] = .now + cooldown
            } else if error == nil, failed[node.id] != nil {
                failed[node.id] = nil
            }
        }
    }

    private func recentlyFailed() -> Set<String> {
        failed.withLock { failed in
            guard !failed.isEmpty else { return [] }
            let now = ContinuousClock.now
            failed = failed.filter { $0.value > now }
            return Set(failed.keys)
        }
    }
}

/// The filtering and picking every selector does.
public enum NodeChoice {
    /// Applies `options.filters`, drops `avoiding` unless that leaves nothing, and picks
    /// with `options.strategy` or `strategy`.
    ///
    /// - Throws: ``MicroError`` 404 `service NAME not found` when no node is left.
    public static func choose(
        _ service: String,
        from records: [ServiceRecord],
        options: SelectOptions,
        strategy: any SelectStrategy,
        avoiding: Set<String> = []
    ) throws -> Node {
        var records = records
        for filter in options.filters { records = filter(records) }
        var nodes = records.flatMap(\.nodes)
        guard !nodes.isEmpty else { throw MicroError.notFound("service \(service) not found") }
        if !avoiding.isEmpty {
            let healthy = nodes.filter { !avoiding.contains($0.id) }
            if !healthy.isEmpty { nodes = healthy }
        }
        return (options.strategy ?? strategy).pick(from: nodes, service: service)
    }
}
