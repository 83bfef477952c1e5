import CodecJSON
import Logging
import Micro
import MicroCore
import MicroTesting
import MicroMemory
import SelectorCache
import ServiceLifecycle
import Testing

private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

private func node(_ id: String, metadata: [String: String] = [:]) -> Node {
    Node(id: id, address: "\(id):1", metadata: metadata)
}

private func configuration(_ change: (inout CacheSelector.Configuration) -> Void = { _ in }) -> CacheSelector.Configuration {
    var configuration = CacheSelector.Configuration(logger: quiet)
    configuration.watchRetryDelay = .milliseconds(20)
    change(&configuration)
    return configuration
}

private struct Echo: Codable, Sendable, Equatable {
    var text: String
}

@Suite("CacheSelector")
struct CacheSelectorTests {
    @Test func aWarmServiceCostsNoRegistryRequest() async throws {
        let registry = CountingRegistry()
        let selector = CacheSelector(registry: registry, configuration: configuration())
        try await withEchoService(registry: registry, selector: selector) { client in
            let first: Echo = try await client.call("echo", "Echo.Call", request: Echo(text: "warm up"))
            #expect(first.text == "warm up")
            let warm = registry.gets
            #expect(warm == 1)
            for index in 0..<1_000 {
                let answer: Echo = try await client.call("echo", "Echo.Call", request: Echo(text: "\(index)"))
                #expect(answer.text == "\(index)")
            }
            #expect(registry.gets - warm == 0, "1,000 calls to a warm service asked the registry \(registry.gets - warm) times")
            #expect(registry.watches == 1)
        }
    }

    @Test func callsToKnownNodesGoOnWhileTheRegistryIsDown() async throws {
        let registry = CountingRegistry()
        let log = LogCapture()
        let selector = CacheSelector(registry: registry, configuration: configuration {
            $0.ttl = .milliseconds(50)
            $0.logger = log.logger()
        })
        try await withEchoService(registry: registry, selector: selector) { client in
            let _: Echo = try await client.call("echo", "Echo.Call", request: Echo(text: "warm up"))
            registry.setFailing(true)
            registry.breakWatches()
            try await Task.sleep(for: .milliseconds(100))  // past the TTL
            for index in 0..<100 {
                let answer: Echo = try await client.call("echo", "Echo.Call", request: Echo(text: "\(index)"))
                #expect(answer.text == "\(index)")
            }
            #expect(log.records.contains { $0.line.contains("serving stale cached nodes") && $0.line.contains("service=echo") })
            registry.setFailing(false)
        }
    }

    @Test func concurrentMissesMakeOneRegistryRequest() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        registry.setGetDelay(.milliseconds(100))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        let ids = try await withTimeout(.seconds(10), "50 concurrent selects") {
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await selector.select("s").id } }
                var ids: [String] = []
                for try await id in group { ids.append(id) }
                return ids
            }
        }
        #expect(ids == Array(repeating: "a", count: 50))
        #expect(registry.gets == 1)
        #expect(registry.watches == 1)
    }

    @Test func watchEventsKeepTheCacheCurrent() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [node("a")]))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        #expect(try await selector.select("s").id == "a")

        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [node("b")]))
        try await registry.register(ServiceRecord(name: "s", version: "2", metadata: ["new": "yes"], nodes: [node("c")]))
        #expect(try await eventually { try await nodeIDs(selector) == ["a", "b", "c"] })

        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [node("a", metadata: ["zone": "z"])]))
        #expect(try await eventually {
            try await selector.records(of: "s").flatMap(\.nodes).first { $0.id == "a" }?.metadata["zone"] == "z"
        })

        try await registry.deregister(ServiceRecord(name: "s", version: "1", nodes: [node("a")]))
        try await registry.deregister(ServiceRecord(name: "s", version: "2", nodes: [node("c")]))
        #expect(try await eventually { try await nodeIDs(selector) == ["b"] })
        #expect(try await selector.records(of: "s").map(\.version) == ["1"])
        #expect(registry.gets == 1, "watch events, not registry requests, updated the cache")
    }

    @Test func aDeleteNamingOnlyTheNodeRemovesIt() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [node("a"), node("b")]))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        #expect(try await nodeIDs(selector) == ["a", "b"])
        // What etcd's watch reports when the deleted value was compacted away.
        registry.inject(RegistryEvent(action: .delete, service: ServiceRecord(name: "s", version: "", nodes: [Node(id: "a", address: "")])))
        #expect(try await eventually { try await nodeIDs(selector) == ["b"] })
    }

    @Test func anExpiredRegistrationArrivesAsADelete() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        try await registry.register(ServiceRecord(name: "s", nodes: [node("short")]), ttl: .milliseconds(200))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        #expect(try await nodeIDs(selector) == ["a", "short"])
        #expect(try await eventually { try await nodeIDs(selector) == ["a"] })
    }

    @Test func theTTLBoundsHowLongNodesAreTrusted() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        let selector = CacheSelector(registry: registry, configuration: configuration { $0.ttl = .milliseconds(100) })
        _ = try await selector.select("s")
        _ = try await selector.select("s")
        #expect(registry.gets == 1)
        try await Task.sleep(for: .milliseconds(150))
        // Past the TTL: answered from the cache at once, refreshed in the background.
        registry.setGetDelay(.seconds(10))
        let start = ContinuousClock.now
        #expect(try await selector.select("s").id == "a")
        #expect(ContinuousClock.now - start < .seconds(5), "an expired entry is served while it refreshes")
        #expect(await eventually { registry.gets == 2 })
        _ = try await selector.select("s")
        #expect(registry.gets == 2, "one refresh at a time")
        #expect(registry.watches == 1, "the watch stays open across refreshes")
    }

    @Test func aRegistryOutageServesStaleNodesAndSaysSo() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        let log = LogCapture()
        let selector = CacheSelector(registry: registry, configuration: configuration {
            $0.ttl = .milliseconds(50)
            $0.retryInterval = .seconds(30)
            $0.logger = log.logger()
        })
        _ = try await selector.select("s")
        registry.setFailing(true)
        try await Task.sleep(for: .milliseconds(80))
        for _ in 0..<100 { #expect(try await selector.select("s").id == "a") }
        #expect(await eventually { log.records.contains { $0.line.contains("serving stale cached nodes") } })
        for _ in 0..<100 { #expect(try await selector.select("s").id == "a") }
        #expect(registry.gets == 2, "after a failed lookup the registry is asked again only after retryInterval")
        let warnings = log.records.map(\.line).filter { $0.contains("serving stale cached nodes") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("error=registry down (test)") == true)
        #expect(warnings.first?.contains("nodes=1") == true)
    }

    @Test func aServiceNeverFetchedFailsWhileTheRegistryIsDown() async throws {
        let registry = CountingRegistry()
        registry.setFailing(true)
        let selector = CacheSelector(registry: registry, configuration: configuration())
        await #expect(throws: MicroError.serviceUnavailable("registry lookup of service s failed: registry down (test)")) {
            _ = try await selector.select("s")
        }
        registry.setFailing(false)
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        #expect(try await selector.select("s").id == "a")
    }

    @Test func anUnknownServiceIsNotFoundAndNotWatched() async throws {
        let registry = CountingRegistry()
        let selector = CacheSelector(registry: registry, configuration: configuration())
        await #expect(throws: MicroError.notFound("service nobody not found")) {
            _ = try await selector.select("nobody")
        }
        #expect(selector.watchedServices == 0)
        // Not cached either: once it registers, the next call finds it.
        try await registry.register(ServiceRecord(name: "nobody", nodes: [node("a")]))
        #expect(try await selector.select("nobody").id == "a")
        #expect(selector.watchedServices == 1)
    }

    @Test func aBrokenWatchIsReopenedAndTheCacheRefetched() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        _ = try await selector.select("s")
        registry.breakWatches()
        #expect(await eventually { registry.watches == 2 })
        // A change the broken watch could not report: the next call fetches afresh.
        try await registry.base.register(ServiceRecord(name: "s", nodes: [node("b")]))
        _ = try await selector.select("s")
        #expect(try await eventually { try await nodeIDs(selector) == ["a", "b"] })
        #expect(registry.gets == 2)
    }

    @Test func filtersStrategiesAndCooldownWorkAsInEverySelector() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", version: "1", nodes: [node("v1")]))
        try await registry.register(ServiceRecord(name: "s", version: "2", nodes: [node("v2", metadata: ["zone": "b"]), node("v2b")]))
        let selector = CacheSelector(registry: registry, configuration: configuration { $0.strategy = RoundRobinStrategy() })
        #expect(try await selector.select("s", options: SelectOptions(filters: [.version("1")])).id == "v1")
        #expect(try await selector.select("s", options: SelectOptions(filters: [.metadata("zone", "b")])).id == "v2")
        await #expect(throws: MicroError.notFound("service s not found")) {
            _ = try await selector.select("s", options: SelectOptions(filters: [.version("3")]))
        }
        var picked: Set<String> = []
        for _ in 0..<3 { picked.insert(try await selector.select("s").id) }
        #expect(picked == ["v1", "v2", "v2b"])

        await selector.mark("s", node: node("v1"), error: TransportError(.connectFailed, "refused"))
        for _ in 0..<10 { #expect(try await selector.select("s").id != "v1") }
        await selector.mark("s", node: node("v1"), error: nil)
        picked = []
        for _ in 0..<3 { picked.insert(try await selector.select("s").id) }
        #expect(picked.contains("v1"))
    }

    @Test func shutdownClosesTheWatches() async throws {
        let registry = CountingRegistry()
        try await registry.register(ServiceRecord(name: "s", nodes: [node("a")]))
        try await registry.register(ServiceRecord(name: "t", nodes: [node("b")]))
        let selector = CacheSelector(registry: registry, configuration: configuration())
        _ = try await selector.select("s")
        _ = try await selector.select("t")
        #expect(selector.watchedServices == 2)
        await selector.shutdown()
        #expect(selector.watchedServices == 0)
    }
}

@Suite("Plugin.cache")
struct CachePluginTests {
    @Test func theCacheIsTheDefaultSelectorWhenLinked() throws {
        let plugins = Plugins([.memoryRegistry, .memoryTransport, .json, .cache, .cacheRoundRobin])
        let runtime = try MicroRuntime(plugins: plugins, options: MicroOptions(), logger: quiet)
        #expect(runtime.pluginNames[.selector] == "cache")
        #expect(runtime.selector is CacheSelector)
    }

    @Test func selectorTTLIsReadFromTheOptions() throws {
        let options = try MicroOptions.resolve(
            arguments: ["--selector_ttl", "5s"], environment: [:], keys: Plugins([.cache]).optionKeys
        )
        #expect(try CacheSelector.Configuration(options: options).ttl == .seconds(5))
        let defaults = try MicroOptions.resolve(arguments: [], environment: [:], keys: Plugins([.cache]).optionKeys)
        #expect(try CacheSelector.Configuration(options: defaults).ttl == .seconds(60))
        let bad = try MicroOptions.resolve(arguments: ["--selector_ttl", "soon"], environment: [:], keys: Plugins([.cache]).optionKeys)
        #expect(throws: OptionError.self) { try CacheSelector.Configuration(options: bad) }
    }

    @Test func roundRobinVariant() throws {
        var code = MicroOptions()
        code[.selector] = "cache_roundrobin"
        let runtime = try MicroRuntime(
            plugins: Plugins([.memoryRegistry, .memoryTransport, .json, .cache, .cacheRoundRobin]), options: code, logger: quiet
        )
        let selector = try #require(runtime.selector as? CacheSelector)
        #expect(selector.configuration.strategy is RoundRobinStrategy)
    }
}

/// Runs an `echo` service (`Echo.Call`) over a memory transport for the duration of
/// `body`, which gets a client using `selector`.
private func withEchoService(
    registry: any Registry, selector: CacheSelector, _ body: (any Client) async throws -> Void
) async throws {
    var router = Router()
    router.handle("Echo.Call") { (request: Echo, _) in request }
    let runtime = MicroRuntime(registry: registry, transport: MemoryTransport(), codecs: [JSONCodec()], selector: selector, logger: quiet)
    let service = MicroService(configuration: MicroService.Configuration(name: "echo"), router: router, runtime: runtime, logger: quiet)
    let group = ServiceGroup(services: [service], logger: quiet)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        _ = try await service.ready()
        try await body(runtime.client)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

private func nodeIDs(_ selector: CacheSelector) async throws -> [String] {
    try await selector.records(of: "s").flatMap(\.nodes).map(\.id).sorted()
}
