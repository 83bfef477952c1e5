public import MicroCore

/// The plain selector: asks the registry on every selection, then filters and applies a
/// strategy.
///
/// A node whose call failed with a connection error is avoided for `cooldown` while
/// other nodes remain (see ``MicroCore/NodeCooldown``), so a retry goes elsewhere and a
/// crashed node stops costing calls before its registration expires. Most applications
/// want `CacheSelector` (module `SelectorCache`, the default selector) instead, which
/// makes no registry request for a warm service.
public final class RegistrySelector: Selector {
    private let registry: any Registry
    private let strategy: any SelectStrategy
    private let cooldown: NodeCooldown

    /// Creates a selector.
    ///
    /// - Parameters:
    ///   - registry: where nodes are found.
    ///   - strategy: the default strategy; random unless given.
    ///   - cooldown: how long a node that could not be reached is avoided; default 5 s.
    public init(registry: any Registry, strategy: any SelectStrategy = RandomStrategy(), cooldown: Duration = .seconds(5)) {
        self.registry = registry
        self.strategy = strategy
        self.cooldown = NodeCooldown(duration: cooldown)
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
            service, from: records, options: options, strategy: strategy, avoiding: cooldown.avoided()
        )
    }

    /// Remembers connection failures; a success clears the node.
    public func mark(_ service: String, node: Node, error: (any Error)?) async {
        cooldown.mark(node, error: error)
    }
}
