/// Picks the node of a service that a call goes to.
///
/// The client asks for a node on every attempt and reports each attempt's outcome with
/// ``mark(_:node:error:)``, so a selector can steer retries away from a failing node.
/// Implementations: `RegistrySelector` in `Micro` (asks the registry every time) and
/// `CacheSelector` in `SelectorCache` (the default: a cache kept fresh by the registry's watch).
/// A selector that watches or caches releases that in ``PluginLifecycle/shutdown()``.
public protocol Selector: PluginLifecycle {
    /// A node of `service` that passes `options.filters`, chosen by `options.strategy`
    /// (or the selector's own).
    ///
    /// - Throws: ``MicroError`` 404 `service NAME not found` when no node is registered,
    ///   or when filters leave none.
    func select(_ service: String, options: SelectOptions) async throws -> Node

    /// Reports the outcome of a call to `node`: `error` is `nil` on success.
    func mark(_ service: String, node: Node, error: (any Error)?) async
}

extension Selector {
    /// A node of `service` with default options.
    public func select(_ service: String) async throws -> Node {
        try await select(service, options: SelectOptions())
    }
}

/// How one selection is made.
public struct SelectOptions: Sendable {
    /// Filters applied, in order, before the strategy.
    public var filters: [NodeFilter]
    /// The strategy for this selection; `nil` uses the selector's.
    public var strategy: (any SelectStrategy)?

    /// Creates options.
    public init(filters: [NodeFilter] = [], strategy: (any SelectStrategy)? = nil) {
        self.filters = filters
        self.strategy = strategy
    }
}

/// Narrows the records of a service before a node is chosen.
public struct NodeFilter: Sendable {
    private let body: @Sendable ([ServiceRecord]) -> [ServiceRecord]

    /// Creates a filter from a function over the service's records.
    public init(_ body: @escaping @Sendable ([ServiceRecord]) -> [ServiceRecord]) {
        self.body = body
    }

    /// Applies the filter.
    public func callAsFunction(_ services: [ServiceRecord]) -> [ServiceRecord] {
        body(services)
    }

    /// Keeps the records of one version.
    public static func version(_ version: String) -> NodeFilter {
        NodeFilter { $0.filter { $0.version == version } }
    }

    /// Keeps the nodes whose metadata has `key` set to `value`.
    public static func metadata(_ key: String, _ value: String) -> NodeFilter {
        NodeFilter { services in
            services.map { service in
                var service = service
                service.nodes = service.nodes.filter { $0.metadata[key] == value }
                return service
            }
        }
    }
}

/// Chooses one node among candidates: random, round robin, or your own.
public protocol SelectStrategy: Sendable {
    /// One of `nodes` (never empty) for a call to `service`.
    func pick(from nodes: [Node], service: String) -> Node
}
