public import Logging
public import MicroCore

extension CacheSelector {
    /// How a ``CacheSelector`` keeps its cache.
    public struct Configuration: Sendable {
        /// How long fetched nodes are trusted without a registry request. The registry's
        /// watch keeps them current meanwhile; after this long the next call refreshes
        /// them from the registry (in the background, serving the cached nodes until
        /// the answer lands). Default 1 minute, as go-micro's cache.
        public var ttl: Duration = .seconds(60)
        /// How long stale nodes are served after a failed registry request before the
        /// registry is asked again. Default 5 s.
        public var retryInterval: Duration = .seconds(5)
        /// The strategy when a call names none. Default random.
        public var strategy: any SelectStrategy = RandomStrategy()
        /// How long a node that could not be reached is avoided. Default 5 s.
        public var cooldown: Duration = .seconds(5)
        /// The first pause before a broken watch is re-opened; it doubles up to
        /// ``maxWatchRetryDelay``. Default 100 ms.
        public var watchRetryDelay: Duration = .milliseconds(100)
        /// The longest pause between attempts to re-open a watch. Default 10 s.
        public var maxWatchRetryDelay: Duration = .seconds(10)
        /// Where stale-serving and watch failures are logged.
        public var logger: Logger

        /// The defaults: TTL 1 minute, random strategy, logging to `micro.selector`.
        public init(logger: Logger = Logger(label: "micro.selector")) {
            self.logger = logger
        }

        /// `--selector_ttl`: how long the cache trusts nodes without asking the registry
        /// (its watch keeps them current meanwhile); ``MicroCore/RegistryCache/Configuration/ttlKey``.
        public static let ttlKey = RegistryCache.Configuration.ttlKey

        /// The settings of a cache of the selector's own.
        public var cache: RegistryCache.Configuration {
            var cache = RegistryCache.Configuration(logger: logger)
            cache.ttl = ttl
            cache.retryInterval = retryInterval
            cache.watchRetryDelay = watchRetryDelay
            cache.maxWatchRetryDelay = maxWatchRetryDelay
            return cache
        }

        /// The defaults with ``ttlKey`` from `options`.
        ///
        /// - Throws: ``MicroCore/OptionError`` when the TTL is not a duration.
        public init(options: MicroOptions, logger: Logger = Logger(label: "micro.selector")) throws {
            self.init(logger: logger)
            if let ttl = try options.duration(Configuration.ttlKey.name) {
                self.ttl = ttl
            }
        }
    }
}
