public import Logging

/// A named factory for one backend: a registry, selector, transport, codec or broker.
///
/// Each plugin module offers its plugin as a static member, so an application names what
/// it links in one place: `Plugins([.memoryRegistry, .tcp, .json])`. The options then
/// choose among the linked ones at run time (`--registry etcd`).
public struct Plugin: Sendable {
    /// The kind of backend a plugin makes.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A ``Registry``.
        case registry
        /// A ``Selector``.
        case selector
        /// A ``Transport``.
        case transport
        /// A ``Codec``.
        case codec
        /// A ``Broker``.
        case broker
    }

    /// The kind of backend.
    public let kind: Kind
    /// The name chosen by flags, such as `etcd` (a codec's name is its short name, `json`).
    public let name: String
    /// One line saying what it is.
    public let summary: String
    /// The plugin's own option keys.
    public let options: [OptionKey]
    private let factory: @Sendable (PluginContext) throws -> any Sendable

    private init(
        kind: Kind, name: String, summary: String, options: [OptionKey],
        factory: @escaping @Sendable (PluginContext) throws -> any Sendable
    ) {
        self.kind = kind
        self.name = name
        self.summary = summary
        self.options = options
        self.factory = factory
    }

    /// A registry plugin.
    public static func registry(
        _ name: String, summary: String, options: [OptionKey] = [],
        make: @escaping @Sendable (PluginContext) throws -> any Registry
    ) -> Plugin {
        Plugin(kind: .registry, name: name, summary: summary, options: options, factory: make)
    }

    /// A selector plugin; its context carries the registry.
    public static func selector(
        _ name: String, summary: String, options: [OptionKey] = [],
        make: @escaping @Sendable (PluginContext) throws -> any Selector
    ) -> Plugin {
        Plugin(kind: .selector, name: name, summary: summary, options: options, factory: make)
    }

    /// A transport plugin.
    public static func transport(
        _ name: String, summary: String, options: [OptionKey] = [],
        make: @escaping @Sendable (PluginContext) throws -> any Transport
    ) -> Plugin {
        Plugin(kind: .transport, name: name, summary: summary, options: options, factory: make)
    }

    /// A codec plugin.
    public static func codec(
        _ name: String, summary: String, options: [OptionKey] = [],
        make: @escaping @Sendable (PluginContext) throws -> any Codec
    ) -> Plugin {
        Plugin(kind: .codec, name: name, summary: summary, options: options, factory: make)
    }

    /// A broker plugin; its context carries the registry.
    public static func broker(
        _ name: String, summary: String, options: [OptionKey] = [],
        make: @escaping @Sendable (PluginContext) throws -> any Broker
    ) -> Plugin {
        Plugin(kind: .broker, name: name, summary: summary, options: options, factory: make)
    }

    /// Makes the backend.
    func make<Component>(_ type: Component.Type, context: PluginContext) throws -> Component {
        let component = try factory(context)
        guard let typed = component as? Component else {
            throw PluginError(kind: kind, name: name, message: "made a \(Swift.type(of: component)), not a \(Component.self)")
        }
        return typed
    }
}

/// What a plugin factory gets: the resolved options, the registry and its shared cache
/// for selectors and brokers, and a logger.
///
/// A factory only builds: a plugin that needs to bind, connect or start a thread does so
/// in ``PluginLifecycle/start()``, which the runtime calls (and awaits) before use.
public struct PluginContext: Sendable {
    /// The resolved options.
    public var options: MicroOptions
    /// The registry already made, for plugins that need one (selectors, brokers).
    public var registry: (any Registry)?
    /// The runtime's cache over ``registry``, for plugins that look services up on their
    /// per-call path (selectors, brokers): sharing it means one watch per service.
    public var registryCache: RegistryCache?
    /// A logger for the plugin.
    public var logger: Logger

    /// Creates a context.
    public init(options: MicroOptions, registry: (any Registry)? = nil, registryCache: RegistryCache? = nil, logger: Logger) {
        self.options = options
        self.registry = registry
        self.registryCache = registryCache
        self.logger = logger
    }
}

/// A plugin could not be chosen or made.
public struct PluginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind asked for.
    public var kind: Plugin.Kind
    /// The name asked for.
    public var name: String
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(kind: Plugin.Kind, name: String, message: String) {
        self.kind = kind
        self.name = name
        self.message = message
    }

    /// `registry 'etcdx': unknown; linked registries: file, memory`
    public var description: String { "\(kind.rawValue) '\(name)': \(message)" }
}
