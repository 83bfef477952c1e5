import Synchronization

/// Picks a node at random, go-micro's default.
public struct RandomStrategy: SelectStrategy {
    /// Creates the strategy.
    public init() {}

    /// A random node of `nodes` (from a fast shared sequence, not the system's entropy).
    public func pick(from nodes: [Node], service: String) -> Node {
        nodes.count == 1 ? nodes[0] : nodes[SelectionRandom.next(below: nodes.count)]
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
            let next = (counters[service] ?? SelectionRandom.next(below: 1_000_000)) &+ 1
            counters[service] = next
            return next
        }
        return nodes[abs(index % nodes.count)]
    }
}
