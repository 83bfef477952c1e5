public import MicroCore

extension Plugin {
    /// Selector `cache` (the default selector when linked): a ``CacheSelector`` with the
    /// random strategy, kept fresh by the registry's watch.
    ///
    /// Its key is `--selector_ttl` (`MICRO_SELECTOR_TTL`, default `1m`).
    public static let cache: Plugin = .selector(
        "cache",
        summary: "in-memory nodes kept fresh by the registry watch; stale on registry errors",
        options: [CacheSelector.Configuration.ttlKey],
        make: { context in
            guard let registry = context.registry else {
                throw PluginError(kind: .selector, name: "cache", message: "needs a registry")
            }
            return CacheSelector(
                registry: registry, configuration: try CacheSelector.Configuration(options: context.options, logger: context.logger)
            )
        }
    )

    /// Selector `cache_roundrobin`: a ``CacheSelector`` that picks nodes in turn.
    public static let cacheRoundRobin: Plugin = .selector(
        "cache_roundrobin",
        summary: "as cache, but nodes in turn",
        options: [CacheSelector.Configuration.ttlKey],
        make: { context in
            guard let registry = context.registry else {
                throw PluginError(kind: .selector, name: "cache_roundrobin", message: "needs a registry")
            }
            var configuration = try CacheSelector.Configuration(options: context.options, logger: context.logger)
            configuration.strategy = RoundRobinStrategy()
            return CacheSelector(registry: registry, configuration: configuration)
        }
    )
}
