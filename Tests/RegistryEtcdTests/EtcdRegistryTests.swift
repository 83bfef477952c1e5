import Foundation
import MicroCore
import MicroTesting
import Testing

@testable import RegistryEtcd

extension RegistryEtcdSuites {
    /// Leases, renewals, endpoints and errors.
    @Suite struct EtcdRegistryTests {
        @Test func reregisteringRenewsTheLeaseAndSkipsUnchangedPuts() async throws {
            let registry = try sharedRegistry()
            let name = uniqueName("lease")
            var service = sampleService(name: name, nodes: [sampleNode("\(name)-n1")])
            defer { Task { [service] in try? await registry.deregister(service) } }
            try await registry.register(service, ttl: .seconds(3))
            let key = EtcdRegistry.nodeKey(service: name, node: "\(name)-n1")
            let first = try #require(try await registry.rawRange(prefix: key).first)
            let lease = try #require(first.lease?.value)

            // Re-registering every second for 5 s keeps the node past its 3 s TTL, with
            // the same lease and no new put.
            for _ in 0..<5 {
                try await Task.sleep(for: .seconds(1))
                try await registry.register(service, ttl: .seconds(3))
            }
            let renewed = try #require(try await registry.rawRange(prefix: key).first)
            #expect(renewed.lease?.value == lease, "same lease")
            #expect(renewed.modRevision == first.modRevision, "unchanged record: no put")

            // A changed record is put again under the same lease.
            service.metadata["owner"] = "team-b"
            try await registry.register(service, ttl: .seconds(3))
            let changed = try #require(try await registry.rawRange(prefix: key).first)
            #expect(changed.lease?.value == lease)
            #expect(changed.modRevision > first.modRevision)

            // When etcd no longer knows the lease, a new one is granted and the key put back.
            _ = try await registry.rawPost("/v3/lease/revoke", ["ID": "\(lease)"])
            #expect(try await registry.rawRange(prefix: key).isEmpty, "revoking the lease removed the key")
            try await registry.register(service, ttl: .seconds(3))
            let back = try #require(try await registry.rawRange(prefix: key).first)
            #expect(back.lease?.value != lease)
            #expect((back.lease?.value ?? 0) != 0)
        }

        @Test func noTTLMeansNoLease() async throws {
            let registry = try sharedRegistry()
            let name = uniqueName("nolease")
            let service = sampleService(name: name, nodes: [sampleNode("\(name)-n1")])
            defer { Task { try? await registry.deregister(service) } }
            try await registry.register(service)
            let kv = try #require(try await registry.rawRange(prefix: EtcdRegistry.servicePrefix(name)).first)
            #expect((kv.lease?.value ?? 0) == 0)
        }

        @Test func unreachableEtcdNamesTheAddressesAndTheCause() async throws {
            let dead1 = try freePort()
            let dead2 = try freePort()
            let registry = try EtcdRegistry(configuration: .init(endpoints: [
                EtcdEndpoint(host: "127.0.0.1", port: dead1), try EtcdEndpoint(parsing: "http://127.0.0.1:\(dead2)"),
            ]))
            let started = ContinuousClock.now
            let error = try await #require(throws: MicroError.self) { try await registry.getService("anything") }
            #expect(ContinuousClock.now - started < .seconds(2), "refused connections fail fast")
            #expect(error.code == 503)
            #expect(error.id == "go.micro.registry")
            #expect(error.detail.contains("http://127.0.0.1:\(dead1)"), "\(error.detail)")
            #expect(error.detail.contains("http://127.0.0.1:\(dead2)"), "\(error.detail)")
            #expect(error.detail.contains("connection refused"), "\(error.detail)")
            await #expect(throws: MicroError.self) { try await registry.register(ServiceRecord(name: "x", nodes: [Node(id: "x-1", address: "a:1")])) }
            await #expect(throws: MicroError.self) { _ = try await registry.watch(service: "x") }
        }

        @Test func aDeadFirstEndpointFailsOverToTheNext() async throws {
            let dead = try freePort()
            let live = try EtcdEndpoint(parsing: sharedEtcdAddress())
            let registry = try EtcdRegistry(configuration: .init(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: dead), live]))
            let name = uniqueName("failover")
            let service = sampleService(name: name, nodes: [sampleNode("\(name)-n1")])
            defer { Task { try? await registry.deregister(service) } }
            try await registry.register(service, ttl: .seconds(10))
            #expect(try await registry.getService(name).flatMap(\.nodes).map(\.id) == ["\(name)-n1"])
            let watcher = WatchRecorder(try await registry.watch(service: name))
            defer { watcher.cancel() }
            try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-n2")]))
            #expect(try await watcher.wait { $0.service.nodes.first?.id == "\(name)-n2" } != nil)
            try await registry.deregister(sampleService(name: name, nodes: [sampleNode("\(name)-n2")]))
        }

        @Test func anEtcdRefusalCarriesEtcdsMessage() async throws {
            let registry = try sharedRegistry()
            let error = try await #require(throws: MicroError.self) {
                _ = try await registry.client.post(
                    "/v3/kv/put",
                    EtcdWire.PutRequest(key: Data("/micro/registry/x/y".utf8), value: Data("{}".utf8), lease: .init(123_456_789))
                )
            }
            #expect(error.detail.contains("requested lease not found"), "\(error.detail)")
            #expect(error.detail.contains("/v3/kv/put"))
            #expect(error.code == 404)
        }

        @Test func emptyNamesAreRejected() async throws {
            let registry = try sharedRegistry()
            let error = try await #require(throws: MicroError.self) { try await registry.register(ServiceRecord(name: "", nodes: [])) }
            #expect(error.code == 400)
            await #expect(throws: MicroError.self) { try await registry.register(ServiceRecord(name: "a", nodes: [Node(id: "", address: "")])) }
            #expect(try await registry.getService("").isEmpty)
        }

        @Test func shutdownEndsWatches() async throws {
            let registry = try sharedRegistry()
            let watch = try await registry.watch(service: uniqueName("shutdown"))
            let ended = Task {
                for try await _ in watch {}
                return true
            }
            await registry.shutdown()
            #expect(try await withTimeout(.seconds(5), "the watch to end after shutdown()") { try await ended.value })
        }
    }
}
