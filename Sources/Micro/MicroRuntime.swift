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
    /// The client over these backends.
    public let client: RPCClient
    /// The name of the chosen plugin of each kind, for node metadata.
    public let pluginNames: [Plugin.Kind: String]
    /// The logger handed to the backends.
    public let logger: Logger

    /// Makes the backends that `options` choose among `plugins`.
    ///
    /// - Parameters:
    ///   - plugins: the linked plugins.
    ///   - options: resolved options; by default resolved from this process's flags and
    ///     environment with ``MicroOptions/resolve(code:arguments:environment:keys:)``.
    ///   - clientInterceptors: wrap every call the client makes, the first outermost.
    ///   - logger: the logger for the backends.
    /// - Throws: ``PluginError`` for an unknown plugin name (listing the linked ones),
    ///   ``OptionError`` for an option value that cannot be used.
    public init(
        plugins: Plugins,
        options: MicroOptions? = nil,
        clientInterceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "micro")
    ) throws {
        var all = Plugins([.random, .roundRobin])
        all.merge(plugins)
        let options = try options ?? MicroOptions.resolve(keys: all.optionKeys)
        self.options = options
        self.logger = logger
        registry = try all.makeRegistry(options, logger: logger)
        transport = try all.makeTransport(options, logger: logger)
        codecs = try all.makeCodecs(options, logger: logger)
        guard !codecs.isEmpty else {
            throw PluginError(kind: .codec, name: "", message: "no codec is linked; add one such as .json to Plugins([...])")
        }
        broker = all.plugins(of: .broker).isEmpty ? nil : try all.makeBroker(options, registry: registry, logger: logger)
        selector = try all.makeSelector(options, registry: registry, logger: logger)
        var names: [Plugin.Kind: String] = [:]
        for kind in [Plugin.Kind.registry, .transport, .selector] {
            names[kind] = try all.plugin(kind, options: options).name
        }
        if broker != nil { names[.broker] = try all.plugin(.broker, options: options).name }
        pluginNames = names
        client = RPCClient(
            selector: selector, transport: transport, codecs: codecs, broker: broker, registry: registry,
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
        let selector = selector ?? RegistrySelector(registry: registry)
        self.selector = selector
        pluginNames = [:]
        client = RPCClient(
            selector: selector, transport: transport, codecs: codecs, broker: broker, registry: registry,
            interceptors: clientInterceptors, configuration: clientConfiguration, logger: logger
        )
    }
}
