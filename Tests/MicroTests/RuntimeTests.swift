import CodecJSON
import Micro
import MicroCore
import MicroMemory
import Testing

@Suite("Choosing plugins at run time")
struct RuntimeTests {
    let plugins = Plugins([.memoryRegistry, .memoryTransport, .memoryBroker, .json])

    @Test func flagsChooseThePlugins() throws {
        let options = try MicroOptions.resolve(
            arguments: ["--registry", "memory", "--selector=roundrobin", "--client_retries", "3"],
            environment: ["MICRO_CLIENT_REQUEST_TIMEOUT": "250ms"],
            keys: plugins.optionKeys
        )
        let runtime = try MicroRuntime(plugins: plugins, options: options, logger: quiet)
        #expect(runtime.registry is MemoryRegistry)
        #expect(runtime.pluginNames[.selector] == "roundrobin")
        #expect(runtime.client.configuration.retries == 3)
        #expect(runtime.client.configuration.requestTimeout == .milliseconds(250))
    }

    @Test func environmentChoosesWhenNoFlagDoes() throws {
        let options = try MicroOptions.resolve(
            arguments: [], environment: ["MICRO_SELECTOR": "roundrobin"], keys: plugins.optionKeys
        )
        let runtime = try MicroRuntime(plugins: plugins, options: options, logger: quiet)
        #expect(runtime.pluginNames[.selector] == "roundrobin")
    }

    @Test func anUnknownNameListsTheLinkedPlugins() throws {
        let options = try MicroOptions.resolve(arguments: ["--registry", "etcd"], environment: [:], keys: plugins.optionKeys)
        do {
            _ = try MicroRuntime(plugins: plugins, options: options, logger: quiet)
            Issue.record("expected a PluginError")
        } catch let error as PluginError {
            #expect(error.kind == .registry)
            #expect(error.name == "etcd")
            #expect(error.description == "registry 'etcd': unknown; linked registries: memory")
        }
    }

    @Test func serviceConfigurationReadsGoMicroFlags() throws {
        let options = try MicroOptions.resolve(
            arguments: ["--server_name", "greeter", "--register_ttl", "60", "--register_interval=15", "--server_advertise", "10.1.2.3:9000"],
            environment: [:], keys: plugins.optionKeys
        )
        let configuration = try MicroService.Configuration(options: options)
        #expect(configuration.name == "greeter")
        #expect(configuration.registerTTL == .seconds(60))
        #expect(configuration.registerInterval == .seconds(15))
        #expect(configuration.advertise == "10.1.2.3:9000")
        #expect(configuration.address == "127.0.0.1:0")
    }

    @Test func aBadOptionValueSaysWhatIsWrong() throws {
        let options = try MicroOptions.resolve(arguments: ["--register_ttl", "soon"], environment: [:], keys: plugins.optionKeys)
        #expect(throws: OptionError.self) { try MicroService.Configuration(name: "x", options: options) }
    }
}

@Suite("Selection")
struct SelectionTests {
    @Test func roundRobinVisitsEveryNode() {
        let nodes = (0..<3).map { Node(id: "n\($0)", address: "a\($0)") }
        let strategy = RoundRobinStrategy()
        let picked = (0..<6).map { _ in strategy.pick(from: nodes, service: "s").id }
        #expect(Set(picked[0..<3]) == ["n0", "n1", "n2"])
        #expect(Array(picked[0..<3]) == Array(picked[3..<6]))
    }

    @Test func aNodeThatCouldNotBeReachedIsAvoided() async throws {
        let registry = MemoryRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [Node(id: "dead", address: "x"), Node(id: "live", address: "y")]))
        let selector = RegistrySelector(registry: registry, strategy: RandomStrategy(), cooldown: .seconds(30))
        await selector.mark("s", node: Node(id: "dead", address: "x"), error: TransportError(.connectFailed, "refused"))
        for _ in 0..<20 { #expect(try await selector.select("s").id == "live") }
        // A handler error is not a reason to avoid a node.
        await selector.mark("s", node: Node(id: "live", address: "y"), error: MicroError.badRequest("x"))
        #expect(try await selector.select("s").id == "live")
    }

    @Test func filtersNarrowTheNodes() async throws {
        let registry = MemoryRegistry()
        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [Node(id: "v1", address: "x")]))
        try await registry.register(ServiceRecord(name: "s", version: "2", nodes: [Node(id: "v2", address: "y", metadata: ["zone": "b"])]))
        let selector = RegistrySelector(registry: registry)
        #expect(try await selector.select("s", options: SelectOptions(filters: [.version("2")])).id == "v2")
        #expect(try await selector.select("s", options: SelectOptions(filters: [.metadata("zone", "b")])).id == "v2")
        await #expect(throws: MicroError.notFound("service s not found")) {
            _ = try await selector.select("s", options: SelectOptions(filters: [.version("3")]))
        }
    }
}
