import Logging
@testable import MicroCore
import MicroMemory
import MicroTesting
import Testing

/// The shared registry cache: records per service and the list of services, each fetched
/// once, patched by a watch, refreshed after the TTL.
@Suite(.timeLimit(.minutes(1)))
struct RegistryCacheTests {
    private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func node(_ id: String) -> Node { Node(id: id, address: "127.0.0.1:\(id.count)") }

    @Test func theListOfServicesIsFetchedOnceAndFollowsTheWatch() async throws {
        let registry = CountingRegistry(MemoryRegistry())
        try await registry.register(ServiceRecord(name: "a", nodes: [node("a1")]))
        try await registry.register(ServiceRecord(name: "b", nodes: [node("b1")]))
        let cache = RegistryCache(registry: registry, configuration: RegistryCache.Configuration(logger: quiet))
        defer { Task { await cache.shutdown() } }
        #expect(try await cache.serviceNames() == ["a", "b"])
        try await registry.register(ServiceRecord(name: "c", nodes: [node("c1")]))
        try await waitFor("the watch to add c") { try await cache.serviceNames() == ["a", "b", "c"] }
        #expect(registry.lists == 1, "the list was fetched \(registry.lists) times")
    }

    @Test func theListIsRefreshedAfterItsTTL() async throws {
        let registry = CountingRegistry(MemoryRegistry())
        try await registry.register(ServiceRecord(name: "a", nodes: [node("a1")]))
        var configuration = RegistryCache.Configuration(logger: quiet)
        configuration.ttl = .milliseconds(50)
        let cache = RegistryCache(registry: registry, configuration: configuration)
        defer { Task { await cache.shutdown() } }
        #expect(try await cache.serviceNames() == ["a"])
        // A node's delete does not say its service is gone; the refresh does.
        try await registry.deregister(ServiceRecord(name: "a", nodes: [node("a1")]))
        try await waitFor("the refresh after the TTL to drop a") { try await cache.serviceNames().isEmpty }
        #expect(registry.lists >= 2)
    }

    @Test func aWatchEventForAWholeServiceRemovesItsName() throws {
        var records = [ServiceRecord(name: "a"), ServiceRecord(name: "b")]
        RegistryCache.applyToList(RegistryEvent(action: .delete, service: ServiceRecord(name: "a")), &records)
        #expect(records.map(\.name) == ["b"])
        RegistryCache.applyToList(RegistryEvent(action: .delete, service: ServiceRecord(name: "b", nodes: [node("b1")])), &records)
        #expect(records.map(\.name) == ["b"], "a node's delete keeps the name")
        RegistryCache.applyToList(RegistryEvent(action: .create, service: ServiceRecord(name: "c", nodes: [node("c1")])), &records)
        RegistryCache.applyToList(RegistryEvent(action: .update, service: ServiceRecord(name: "c", nodes: [node("c1")])), &records)
        #expect(records.map(\.name) == ["b", "c"])
    }

    @Test func shutdownStopsTheWatchesAndForgets() async throws {
        let registry = CountingRegistry(MemoryRegistry())
        try await registry.register(ServiceRecord(name: "a", nodes: [node("a1")]))
        let cache = RegistryCache(registry: registry, configuration: RegistryCache.Configuration(logger: quiet))
        _ = try await cache.records(of: "a")
        _ = try await cache.serviceNames()
        #expect(cache.watchedServices == 1)
        await cache.shutdown()
        #expect(cache.watchedServices == 0)
        _ = try await cache.serviceNames()
        #expect(registry.lists == 2, "after shutdown the list is fetched again")
    }
}
