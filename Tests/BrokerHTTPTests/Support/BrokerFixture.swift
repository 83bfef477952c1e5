@testable import BrokerHTTP
import MicroCore
import MicroMemory
import Synchronization

/// Started HTTP brokers over one registry and one registry cache (as in one runtime),
/// shut down together by ``shutdown()``.
final class BrokerFixture: Sendable {
    /// The registry every broker registers in.
    let registry: any Registry
    /// The cache every broker's publishes read.
    let cache: RegistryCache
    private let configuration: HTTPBroker.Configuration
    private let brokers = Mutex<[HTTPBroker]>([])

    init(registry: any Registry = MemoryRegistry(), configure: (inout HTTPBroker.Configuration) -> Void = { _ in }) {
        self.registry = registry
        self.cache = RegistryCache(registry: registry)
        var configuration = HTTPBroker.Configuration()
        // Short timeouts, so that a test never waits long for a failure.
        configuration.deliveryTimeout = .seconds(4)
        configure(&configuration)
        self.configuration = configuration
    }

    /// A new broker, started.
    func make() async throws -> HTTPBroker {
        let broker = HTTPBroker(configuration: configuration, registry: registry, registryCache: cache)
        try await broker.start()
        brokers.withLock { $0.append(broker) }
        return broker
    }

    /// Shuts every broker down, then the cache.
    func shutdown() async {
        for broker in brokers.withLock({ $0 }) { await broker.shutdown() }
        await cache.shutdown()
    }

    /// Runs `body` with the fixture and shuts it down after, also when `body` throws.
    func run<T: Sendable>(_ body: (BrokerFixture) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }
}
