public import Logging

/// The plugins an application links, by kind and name, and the makers that turn options
/// into backends.
///
/// Swift has no module initialisers, so plugins do not register themselves on import:
/// the application lists them once.
///
/// ```swift
/// let plugins = Plugins([.memoryRegistry, .memoryTransport, .memoryBroker, .json])
/// let registry = try plugins.makeRegistry(options)   // --registry memory
/// ```
///
/// When an option names no plugin of a kind, the first of the kind's defaults that is
/// linked is used (registry `file`, transport `tcp`, selector `cache` then `random`,
/// broker `http`, codec `json`), else the only plugin of that kind if there is one.
public struct Plugins: Sendable {
    private var byKind: [Plugin.Kind: [String: Plugin]] = [:]

    /// The default plugin names of each kind, in order of preference, used when the
    /// options name none.
    public static let defaults: [Plugin.Kind: [String]] = [
        .registry: ["file"], .transport: ["tcp"], .selector: ["cache", "random"], .broker: ["http"], .codec: ["json"],
    ]

    /// The option key that names the plugin of each kind (codecs are all linked at once).
    static let keys: [Plugin.Kind: OptionKey] = [
        .registry: .registry, .transport: .transport, .selector: .selector, .broker: .broker,
    ]

    /// Creates a set of plugins; a later plugin replaces an earlier one of the same kind
    /// and name.
    public init(_ plugins: [Plugin] = []) {
        for plugin in plugins { register(plugin) }
    }

    /// Adds or replaces a plugin.
    public mutating func register(_ plugin: Plugin) {
        byKind[plugin.kind, default: [:]][plugin.name] = plugin
    }

    /// Adds the plugins of `other`, replacing those of the same kind and name.
    public mutating func merge(_ other: Plugins) {
        for plugins in other.byKind.values {
            for plugin in plugins.values { register(plugin) }
        }
    }

    /// The linked plugins of `kind`, sorted by name.
    public func plugins(of kind: Plugin.Kind) -> [Plugin] {
        (byKind[kind] ?? [:]).values.sorted { $0.name < $1.name }
    }

    /// The core option keys, the runtime's registry cache TTL (`--selector_ttl`, read by
    /// every runtime), and the keys of every linked plugin: the flags a program on these
    /// plugins accepts.
    public var optionKeys: [OptionKey] {
        var keys = OptionKey.core + [RegistryCache.Configuration.ttlKey]
        for kind in Plugin.Kind.allCases {
            for plugin in plugins(of: kind) {
                keys += plugin.options.filter { option in !keys.contains { $0.name == option.name } }
            }
        }
        return keys
    }

    /// The plugin of `kind` that `options` choose.
    ///
    /// - Throws: ``PluginError`` naming the linked plugins when the name is unknown or
    ///   none can be chosen.
    public func plugin(_ kind: Plugin.Kind, options: MicroOptions) throws -> Plugin {
        let linked = byKind[kind] ?? [:]
        let asked = Plugins.keys[kind].flatMap { options[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        if let asked {
            if let plugin = linked[asked] { return plugin }
            throw PluginError(kind: kind, name: asked, message: "unknown; \(describeLinked(kind))")
        }
        if let plugin = (Plugins.defaults[kind] ?? []).lazy.compactMap({ linked[$0] }).first { return plugin }
        if linked.count == 1, let plugin = linked.values.first { return plugin }
        throw PluginError(
            kind: kind, name: Plugins.defaults[kind]?.first ?? "",
            message: "none chosen and the default is not linked; \(describeLinked(kind))"
        )
    }

    /// Makes the registry the options choose.
    public func makeRegistry(_ options: MicroOptions, logger: Logger = Logger(label: "micro.registry")) throws -> any Registry {
        try plugin(.registry, options: options).make((any Registry).self, context: PluginContext(options: options, logger: logger))
    }

    /// Makes the transport the options choose.
    public func makeTransport(_ options: MicroOptions, logger: Logger = Logger(label: "micro.transport")) throws -> any Transport {
        try plugin(.transport, options: options).make((any Transport).self, context: PluginContext(options: options, logger: logger))
    }

    /// Makes the selector the options choose, over `registry` and its shared `cache`.
    public func makeSelector(
        _ options: MicroOptions, registry: any Registry, cache: RegistryCache? = nil,
        logger: Logger = Logger(label: "micro.selector")
    ) throws -> any Selector {
        try plugin(.selector, options: options).make(
            (any Selector).self, context: PluginContext(options: options, registry: registry, registryCache: cache, logger: logger)
        )
    }

    /// Makes the broker the options choose, over `registry` and its shared `cache`.
    public func makeBroker(
        _ options: MicroOptions, registry: any Registry, cache: RegistryCache? = nil,
        logger: Logger = Logger(label: "micro.broker")
    ) throws -> any Broker {
        try plugin(.broker, options: options).make(
            (any Broker).self, context: PluginContext(options: options, registry: registry, registryCache: cache, logger: logger)
        )
    }

    /// Makes every linked codec: a server answers in any of them.
    public func makeCodecs(_ options: MicroOptions, logger: Logger = Logger(label: "micro.codec")) throws -> [any Codec] {
        try plugins(of: .codec).map {
            try $0.make((any Codec).self, context: PluginContext(options: options, logger: logger))
        }
    }

    private func describeLinked(_ kind: Plugin.Kind) -> String {
        let names = plugins(of: kind).map(\.name)
        let noun = kind == .registry ? "registries" : "\(kind.rawValue)s"
        if names.isEmpty { return "no \(noun) are linked (add one to Plugins([...]))" }
        return "linked \(noun): \(names.joined(separator: ", "))"
    }
}
