import CodecJSON
import Logging
import Micro
import MicroCore
import MicroTesting
import SelectorCache
import ServiceLifecycle
import Synchronization
import Testing
import TransportTCP

@testable import RegistryEtcd

private struct Echo: Codable, Sendable, Equatable {
    var text: String
}

private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

extension RegistryEtcdSuites {
    /// The cache selector in front of a real etcd: warm calls cost no etcd request, and an
    /// etcd outage does not stop calls to known nodes.
    @Suite struct CacheSelectorOverEtcdTests {
        @Test func warmCallsSkipEtcdAndSurviveItsOutage() async throws {
            try await EtcdServer.with { server in
                let name = uniqueName("cache")
                let serverRegistry = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], timeout: .seconds(1)))
                var router = Router()
                router.handle("Echo.Call") { (request: Echo, _) in request }
                var serviceConfiguration = MicroService.Configuration(name: name)
                serviceConfiguration.drainTimeout = .seconds(1)
                let service = MicroService(
                    configuration: serviceConfiguration, router: router,
                    runtime: MicroRuntime(registry: serverRegistry, transport: TCPTransport(), codecs: [JSONCodec()], logger: quiet),
                    logger: quiet
                )

                let clientRegistry = CountingRegistry(
                    try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], timeout: .seconds(1), logger: quiet))
                )
                let log = LogCapture()
                var cacheConfiguration = CacheSelector.Configuration(logger: log.logger("test.selector"))
                cacheConfiguration.ttl = .milliseconds(300)
                let client = MicroRuntime(
                    registry: clientRegistry, transport: TCPTransport(), codecs: [JSONCodec()],
                    selector: CacheSelector(registry: clientRegistry, configuration: cacheConfiguration), logger: quiet
                ).client

                let group = ServiceGroup(services: [service], logger: quiet)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    defer { tasks.cancelAll() }
                    _ = try await service.ready()

                    let first: Echo = try await client.call(name, "Echo.Call", request: Echo(text: "warm up"))
                    #expect(first.text == "warm up")
                    let warm = clientRegistry.lookups
                    for index in 0..<1_000 {
                        let answer: Echo = try await client.call(name, "Echo.Call", request: Echo(text: "\(index)"))
                        #expect(answer.text == "\(index)")
                    }
                    // Within one TTL (300 ms) the 1,000 calls make no etcd request; a
                    // slower machine may cross a TTL boundary and refresh once or twice.
                    let during = clientRegistry.lookups - warm
                    #expect(during <= 1_000 / 100, "1,000 warm calls made \(during) etcd requests")

                    await server.kill9()
                    try await Task.sleep(for: .milliseconds(400))  // past the cache's TTL
                    for index in 0..<100 {
                        let answer: Echo = try await client.call(name, "Echo.Call", request: Echo(text: "down \(index)"))
                        #expect(answer.text == "down \(index)")
                    }
                    let stale = log.warnings.filter { $0.message.contains("serving stale cached nodes") }
                    #expect(!stale.isEmpty, "the selector says it serves stale nodes")
                    #expect(stale.first?.metadata.contains("etcd is unreachable") == true, "\(stale.first?.metadata ?? "no warning")")

                    await group.triggerGracefulShutdown()
                    try await tasks.next()
                }
            }
        }

        @Test func noEtcdRequestWithinOneTTL() async throws {
            try await EtcdServer.with { server in
                let name = uniqueName("zero")
                let registry = CountingRegistry(try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], logger: quiet)))
                try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-a")]), ttl: nil)
                let selector = CacheSelector(registry: registry, configuration: CacheSelector.Configuration(logger: quiet))
                _ = try await selector.select(name)
                let warm = registry.lookups
                for _ in 0..<1_000 { _ = try await selector.select(name) }
                #expect(registry.lookups - warm == 0)
                // A node registered meanwhile arrives through etcd's watch, not a lookup.
                try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-b")]), ttl: nil)
                var ids: Set<String> = []
                let deadline = ContinuousClock.now + .seconds(5)
                while ids.count < 2, ContinuousClock.now < deadline {
                    ids = Set(try await selector.records(of: name).flatMap(\.nodes).map(\.id))
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(ids == ["\(name)-a", "\(name)-b"])
                #expect(registry.lookups - warm == 0)
            }
        }
    }
}
