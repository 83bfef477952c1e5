public import MicroCore

/// The default selector: picks nodes from the shared ``MicroCore/RegistryCache``, which
/// keeps each service's nodes in memory, filled on first use and kept current by the
/// registry's watch, so a call to a warm service makes no registry request.
///
/// - A service's first call asks the registry once, however many calls miss at the
///   same time, and opens a watch of that service; the watch's events patch the cache.
/// - Nodes are trusted for the cache's TTL (1 minute); after that, or once the watch
///   broke, the next call starts a refresh from the registry in the background and is
///   served from the cache meanwhile: only a service's first call waits for the registry.
/// - When the registry fails, calls keep going to the last known nodes (stale), with a
///   warning in the log, and the registry is asked again after the cache's retry
///   interval. Only a service never fetched fails (503).
/// - Filters and strategies work as in every selector (``MicroCore/NodeChoice``); a node
///   that could not be reached, or refused a call while draining, is avoided for
///   ``Configuration/cooldown``.
///
/// ```swift
/// let selector = CacheSelector(registry: registry)
/// let node = try await selector.select("greeter")
/// ```
///
/// Chosen with `--selector cache` (the default when linked; see ``MicroCore/Plugin/cache``),
/// which shares the runtime's cache with the other plugins.
public final class CacheSelector: Selector {
    /// The settings.
    public let configuration: Configuration
    /// The cache the nodes come from.
    public let cache: RegistryCache
    private let cooldown: NodeCooldown
    /// Whether the cache was made here, and so is stopped with the selector.
    private let ownsCache: Bool

    /// Creates a selector with a cache of its own over `registry`, kept as
    /// `configuration` says.
    public init(registry: any Registry, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        cache = RegistryCache(registry: registry, configuration: configuration.cache)
        cooldown = NodeCooldown(duration: configuration.cooldown)
        ownsCache = true
    }

    deinit {
        if ownsCache { cache.stopWatches() }
    }

    /// Creates a selector over a shared `cache` (its TTL and retry settings apply; those
    /// of `configuration` do not). Stopping the selector leaves the cache to its owner.
    public init(cache: RegistryCache, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.cache = cache
        cooldown = NodeCooldown(duration: configuration.cooldown)
        ownsCache = false
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

    /// Stops the registry watches of a cache of its own; selections after this ask the
    /// registry again. A shared cache is left to its owner.
    public func shutdown() async {
        if ownsCache { await cache.shutdown() }
    }

    /// How many services have a registry watch open.
    public var watchedServices: Int { cache.watchedServices }
}
