public import MicroCore

extension Plugin {
    /// Selector `cache` (the default selector when linked): a ``CacheSelector`` with the
    /// random strategy over the runtime's shared ``MicroCore/RegistryCache``.
    ///
    /// Its key is `--selector_ttl` (`MICRO_SELECTOR_TTL`, default `1m`).
    public static let cache: Plugin = .selector(
        "cache",
        summary: "in-memory nodes kept fresh by the registry watch; stale on registry errors",
        options: [CacheSelector.Configuration.ttlKey],
        make: { context in
            try CacheSelector(context: context, configuration: CacheSelector.Configuration(options: context.options, logger: context.logger))
        }
    )

    /// Selector `cache_roundrobin`: a ``CacheSelector`` that picks nodes in turn.
    public static let cacheRoundRobin: Plugin = .selector(
        "cache_roundrobin",
        summary: "as cache, but nodes in turn",
        options: [CacheSelector.Configuration.ttlKey],
        make: { context in
            var configuration = try CacheSelector.Configuration(options: context.options, logger: context.logger)
            configuration.strategy = RoundRobinStrategy()
            return try CacheSelector(context: context, configuration: configuration)
        }
    )
}

extension CacheSelector {
    /// A selector over the context's shared cache, or a cache of its own over the
    /// context's registry.
    convenience init(context: PluginContext, configuration: Configuration) throws {
        if let cache = context.registryCache {
            self.init(cache: cache, configuration: configuration)
        } else if let registry = context.registry {
            self.init(registry: registry, configuration: configuration)
        } else {
            throw PluginError(kind: .selector, name: "cache", message: "needs a registry")
        }
    }
}
