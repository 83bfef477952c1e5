public import MicroCore

extension Plugin {
    /// Selector `random`: the registry on every call, a random node.
    public static let random = Plugin.selector("random", summary: "registry lookup per call, random node") { context in
        guard let registry = context.registry else {
            throw PluginError(kind: .selector, name: "random", message: "needs a registry")
        }
        return RegistrySelector(registry: registry, strategy: RandomStrategy())
    }

    /// Selector `roundrobin`: the registry on every call, nodes in turn.
    public static let roundRobin = Plugin.selector("roundrobin", summary: "registry lookup per call, nodes in turn") { context in
        guard let registry = context.registry else {
            throw PluginError(kind: .selector, name: "roundrobin", message: "needs a registry")
        }
        return RegistrySelector(registry: registry, strategy: RoundRobinStrategy())
    }
}
