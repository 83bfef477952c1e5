public import MicroCore

extension Plugin {
    /// The `http` broker: go-micro's HTTP broker (``HTTPBroker``), with acknowledged
    /// delivery. Needs the registry and the runtime's registry cache from the context.
    public static let http: Plugin = .broker(
        "http", summary: "go-micro's HTTP broker: subscribers serve HTTP and register, publishers POST",
        options: HTTPBroker.Configuration.keys
    ) { context in
        guard let registry = context.registry, let registryCache = context.registryCache else {
            throw PluginError(
                kind: .broker, name: "http",
                message: "needs a registry and the runtime's registry cache in its context; make it through MicroRuntime"
            )
        }
        let configuration = try HTTPBroker.Configuration(options: context.options, logger: context.logger)
        return HTTPBroker(configuration: configuration, registry: registry, registryCache: registryCache)
    }
}
