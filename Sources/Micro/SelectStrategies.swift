public import MicroCore
import Synchronization

/// Picks a node at random, go-micro's default.
public struct RandomStrategy: SelectStrategy {
    /// Creates the strategy.
    public init() {}

    /// A random node of `nodes`.
    public func pick(from nodes: [Node], service: String) -> Node {
        nodes[Int.random(in: nodes.indices)]
    }
}

/// Picks nodes in turn, per service, starting at a random one (as go-micro does).
public final class RoundRobinStrategy: SelectStrategy {
    private let counters = Mutex<[String: Int]>([:])

    /// Creates the strategy.
    public init() {}

    /// The next node of `nodes` for `service`.
    public func pick(from nodes: [Node], service: String) -> Node {
        let index = counters.withLock { counters in
            let next = (counters[service] ?? Int.random(in: 0..<1_000_000)) &+ 1
            counters[service] = next
            return next
        }
        return nodes[abs(index % nodes.count)]
    }
}

extension Plugin {
    /// Selector `random`: the registry on every call, a random node.
    public static let random = Plugin.selector("random", summary: "registry lookup per call, random node") { context in
        guard let registry = context.registry else {
            throw PluginError(kind: .selector, name: "random", message: "needs a registry")
        }
        return RegistrySelector(registry: registry, strategy: RandomStrategy())
    }

    /// Selector `roundrobin`: the registry on every call, nodes in turn.
    public static let roundRobin = Plugin.selector("roundrobin", summary: "registry lookup per call, nodes in turn") { context in
        guard let registry = context.registry else {
            throw PluginError(kind: .selector, name: "roundrobin", message: "needs a registry")
        }
        return RegistrySelector(registry: registry, strategy: RoundRobinStrategy())
    }
}
