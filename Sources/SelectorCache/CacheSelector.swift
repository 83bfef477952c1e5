public import MicroCore

/// The default selector: keeps each service's nodes in memory, filled on first use and
/// kept current by the registry's watch, so a call to a warm service makes no registry
/// request.
///
/// - A service's first call asks the registry once, however many calls miss at the
///   same time, and opens a watch of that service; the watch's events patch the cache.
/// - Nodes are trusted for ``Configuration/ttl`` (1 minute); after that, or once the
///   watch broke, the next call starts a refresh from the registry in the background and
///   is served from the cache meanwhile: only a service's first call waits for the
///   registry.
/// - When the registry fails, calls keep going to the last known nodes (stale), with a
///   warning in the log, and the registry is asked again after
///   ``Configuration/retryInterval``. Only a service never fetched fails (503).
/// - Filters and strategies work as in every selector (``MicroCore/NodeChoice``); a node
///   that could not be reached is avoided for ``Configuration/cooldown``.
///
/// ```swift
/// let selector = CacheSelector(registry: registry)
/// let node = try await selector.select("greeter")
/// ```
///
/// Chosen with `--selector cache` (the default when linked; see ``MicroCore/Plugin/cache``).
public final class CacheSelector: Selector {
    /// The settings.
    public let configuration: Configuration
    private let cache: ServiceCache
    private let cooldown: NodeCooldown

    /// Creates a selector over `registry`.
    public init(registry: any Registry, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        cache = ServiceCache(registry: registry, configuration: configuration)
        cooldown = NodeCooldown(duration: configuration.cooldown)
    }

    deinit {
        cache.shutdown()
    }

    /// A node of `service` from the cache, avoiding nodes that recently could not be
    /// reached.
    ///
    /// - Throws: ``MicroCore/MicroError`` 404 when the service has no node (after
    ///   filters), 503 when the registry fails and the service was never fetched.
    public func select(_ service: String, options: SelectOptions) async throws -> Node {
        let records = try await cache.records(of: service)
        return try NodeChoice.choose(
            service, from: records, options: options, strategy: configuration.strategy, avoiding: cooldown.avoided()
        )
    }

    /// Remembers connection failures; a success clears the node.
    public func mark(_ service: String, node: Node, error: (any Error)?) async {
        cooldown.mark(node, error: error)
    }

    /// The records of `service` as the cache holds them (fetching them if cold).
    public func records(of service: String) async throws -> [ServiceRecord] {
        try await cache.records(of: service)
    }

    /// Stops every registry watch; selections after this ask the registry again.
    public func shutdown() {
        cache.shutdown()
    }

    /// How many services have a registry watch open.
    public var watchedServices: Int { cache.watchedServices }
}
