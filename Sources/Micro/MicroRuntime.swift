public import Logging
public import MicroCore

/// The backends a program runs on, made from its linked plugins and resolved options:
/// registry, transport, codecs, broker, selector, and the client over them.
///
/// ```swift
/// let runtime = try MicroRuntime(plugins: Plugins([.memoryRegistry, .memoryTransport, .json]))
/// let answer: HelloResponse = try await runtime.client.call("greeter", "Greeter.Hello", request: hello)
/// ```
///
/// The built-in selectors `random` and `roundrobin` are always linked.
///
/// Backends that hold resources (a broker's listener, a registry's watches) are started
/// by ``start()`` and released by ``shutdown()``. A ``MicroService`` does both around its
/// run; a program that only calls other services wraps its work in
/// ``withStarted(_:)``. Starts and shutdowns are counted, so services sharing one runtime
/// start it once and the last one to stop shuts it down.
public struct MicroRuntime: Sendable {
    /// The resolved options.
    public let options: MicroOptions
    /// The registry.
    public let registry: any Registry
    /// The transport.
    public let transport: any Transport
    /// Every linked codec.
    public let codecs: [any Codec]
    /// The broker; `nil` when no broker plugin is linked, and then events travel over the
    /// transport to the subscriber nodes the registry names.
    public let broker: (any Broker)?
    /// The selector.
    public let selector: any Selector
    /// The registry as plugins see it on their per-call path, shared by the selector and
    /// the broker (and the client's publishes without a broker): one watch per service.
    public let registryCache: RegistryCache
    /// The client over these backends.
    public let client: RPCClient
    /// The name of the chosen plugin of each kind, for node metadata.
    public let pluginNames: [Plugin.Kind: String]
    /// The logger handed to the backends.
    public let logger: Logger
    private let lifecycle: RuntimeLifecycle

    /// Makes the backends that `options` choose among `plugins`.
    ///
    /// - Parameters:
    ///   - plugins: the linked plugins.
    ///   - options: resolved options; by default resolved from this process's flags and
    ///     environment against the linked plugins' keys with
    ///     ``MicroCore/Plugins/resolveOptions(code:arguments:environment:allowing:program:)``.
    ///   - clientInterceptors: wrap every call the client makes, the first outermost.
    ///   - logger: the logger for the backends.
    /// - Throws: ``PluginError`` for an unknown plugin name (listing the linked ones),
    ///   ``OptionError`` for an option value that cannot be used. When the options are
    ///   resolved here: ``MicroCore/UnknownFlagError`` for a `--flag` no linked plugin
    ///   knows, and ``MicroCore/CommandLineRequest`` for `--help` or `--version` (print its
    ///   text and exit instead of running).
    public init(
        plugins: Plugins,
        options: MicroOptions? = nil,
        clientInterceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "micro")
    ) throws {
        var all = Plugins([.random, .roundRobin])
        all.merge(plugins)
        let options = try options ?? all.resolveOptions()
        self.options = options
        self.logger = logger
        registry = try all.makeRegistry(options, logger: logger)
        transport = try all.makeTransport(options, logger: logger)
        codecs = try all.makeCodecs(options, logger: logger)
        guard !codecs.isEmpty else {
            throw PluginError(kind: .codec, name: "", message: "no codec is linked; add one such as .json to Plugins([...])")
        }
        let cache = RegistryCache(registry: registry, configuration: try RegistryCache.Configuration(options: options, logger: logger))
        registryCache = cache
        lifecycle = RuntimeLifecycle(cache: cache)
        broker = all.plugins(of: .broker).isEmpty ? nil : try all.makeBroker(options, registry: registry, cache: cache, logger: logger)
        selector = try all.makeSelector(options, registry: registry, cache: cache, logger: logger)
        var names: [Plugin.Kind: String] = [:]
        for kind in [Plugin.Kind.registry, .transport, .selector] {
            names[kind] = try all.plugin(kind, options: options).name
        }
        if broker != nil { names[.broker] = try all.plugin(.broker, options: options).name }
        pluginNames = names
        client = RPCClient(
            selector: selector, transport: transport, codecs: codecs, broker: broker, registryCache: cache,
            interceptors: clientInterceptors, configuration: try RPCClient.Configuration(options: options), logger: logger
        )
    }

    /// Makes the backends from explicit instances, for tests and programs that build
    /// their own.
    public init(
        registry: any Registry,
        transport: any Transport,
        codecs: [any Codec],
        broker: (any Broker)? = nil,
        selector: (any Selector)? = nil,
        clientInterceptors: [any ClientInterceptor] = [],
        clientConfiguration: RPCClient.Configuration = RPCClient.Configuration(),
        options: MicroOptions = MicroOptions(),
        logger: Logger = Logger(label: "micro")
    ) {
        self.options = options
        self.registry = registry
        self.transport = transport
        self.codecs = codecs
        self.broker = broker
        self.logger = logger
        let cache = RegistryCache(registry: registry, configuration: RegistryCache.Configuration(logger: logger))
        registryCache = cache
        lifecycle = RuntimeLifecycle(cache: cache)
        let selector = selector ?? RegistrySelector(registry: registry)
        self.selector = selector
        pluginNames = [:]
        client = RPCClient(
            selector: selector, transport: transport, codecs: codecs, broker: broker, registryCache: cache,
            interceptors: clientInterceptors, configuration: clientConfiguration, logger: logger
        )
    }

    /// Starts the backends that hold resources: the registry, then the selector and the
    /// broker. Returns when they are ready; balance every call with ``shutdown()``.
    ///
    /// Only the first of several overlapping starts starts anything; the others wait for
    /// it. A backend that fails to start has the ones started before it shut down.
    ///
    /// - Throws: the error of the backend that could not start.
    public func start() async throws {
        let (registry, selector, broker, logger) = (self.registry, self.selector, self.broker, self.logger)
        try await lifecycle.acquire {
            logger.debug("starting the registry, selector and broker")
            try await registry.start()
            do {
                try await selector.start()
            } catch {
                await registry.shutdown()
                throw error
            }
            do {
                try await broker?.start()
            } catch {
                await selector.shutdown()
                await registry.shutdown()
                throw error
            }
        }
    }

    /// Releases one ``start()``; the last release shuts the backends down in the reverse
    /// order: the broker (its subscriptions end and deregister, its listener closes), the
    /// selector and the registry cache (their watches stop), then the registry (its
    /// heartbeats and watches stop).
    public func shutdown() async {
        let (registry, selector, broker, cache, logger) = (self.registry, self.selector, self.broker, self.registryCache, self.logger)
        await lifecycle.release {
            logger.debug("shutting down the broker, selector and registry")
            await broker?.shutdown()
            await selector.shutdown()
            await cache.shutdown()
            await registry.shutdown()
        }
    }

    /// Starts the backends, runs `body`, and shuts them down, also when `body` throws: for
    /// programs that call services without serving one.
    ///
    /// ```swift
    /// let reply = try await runtime.withStarted {
    ///     try await runtime.client.call("greeter", "Greeter.Hello", request: hello, responseType: HelloResponse.self)
    /// }
    /// ```
    public func withStarted<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await start()
        do {
            let result = try await body()
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }
}

/// Counts the starts of a runtime's backends, so that only the first start and the last
/// shutdown act; one start or shutdown runs at a time. When the last copy of the runtime
/// is gone, it stops the registry cache's watches (which would keep the cache alive).
private actor RuntimeLifecycle {
    private let cache: RegistryCache
    private var users = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(cache: RegistryCache) {
        self.cache = cache
    }

    deinit {
        cache.stopWatches()
    }

    func acquire(_ start: @Sendable () async throws -> Void) async throws {
        await enter()
        defer { leave() }
        if users == 0 { try await start() }
        users += 1
    }

    func release(_ stop: @Sendable () async -> Void) async {
        await enter()
        defer { leave() }
        guard users > 0 else { return }
        users -= 1
        if users == 0 { await stop() }
    }

    private func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the turn to the next waiter, or frees it.
    private func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
