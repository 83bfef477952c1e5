import Foundation
import MicroCore
import MicroTesting
import RegistryEtcd
import Synchronization
import Testing

/// `greeter` and `micro` as separate processes sharing the etcd that `scripts/test`
/// started (`MICRO_TEST_ETCD`).
@Suite(.serialized)
struct EtcdProcessTests {
    /// A world of greeters registered in the shared etcd.
    final class EtcdWorld: Sendable {
        let address: String
        let directory: URL
        let registry: EtcdRegistry
        private let greeters = Mutex<[GreeterProcess]>([])

        init() async throws {
            address = try sharedEtcdAddress()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("micro-etcd-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            registry = try EtcdRegistry(configuration: .init(endpoints: [try EtcdEndpoint(parsing: address)]))
            // Leftovers of an earlier run: remove them so counts start at zero.
            for record in try await registry.getService("greeter") { try await registry.deregister(record) }
        }

        var flags: [String] { ["--registry", "etcd", "--registry_address", address] }

        func micro(_ arguments: [String]) async throws -> CommandResult {
            try await run(try executable("micro"), arguments + flags)
        }

        func startGreeter(ttl: Int, interval: Int = 1) async throws -> GreeterProcess {
            let before = try await registry.getService("greeter").flatMap(\.nodes).count
            let greeter = try GreeterProcess(
                log: directory.appendingPathComponent("greeter-\(UUID().uuidString.prefix(6)).log"),
                arguments: flags + ["--register_ttl", "\(ttl)", "--register_interval", "\(interval)"]
            )
            greeters.withLock { $0.append(greeter) }
            try await waitFor("greeter to register in etcd") {
                try await self.registry.getService("greeter").flatMap(\.nodes).count == before + 1
            }
            return greeter
        }

        func tearDown() async {
            for greeter in greeters.withLock({ $0 }) { greeter.kill(signal: SIGKILL) }
            if let records = try? await registry.getService("greeter") {
                for record in records { try? await registry.deregister(record) }
            }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func microCallsTheGreeterThroughEtcd() async throws {
        let world = try await EtcdWorld()
        let greeter = try await world.startGreeter(ttl: 5)
        do {
            let services = try await world.micro(["services"])
            #expect(services.status == 0, "\(services.error)")
            #expect(services.output.split(separator: "\n").contains("greeter"))

            let call = try await world.micro(["call", "greeter", "Greeter.Hello", #"{"name":"Ada"}"#])
            #expect(call.status == 0, "\(call.error)")
            #expect(call.output == "{\"msg\":\"Hello Ada\"}\n")

            let json = try await world.micro(["get", "service", "greeter", "--output", "json"])
            let records = try JSONDecoder().decode([ServiceRecord].self, from: Data(json.output.utf8))
            #expect(records.first?.nodes.first?.metadata["registry"] == "etcd")

            greeter.kill(signal: SIGTERM)
            #expect(try await greeter.waitForExit() == 0)
            #expect(try await world.registry.getService("greeter").isEmpty, "SIGTERM deregisters from etcd")
        } catch {
            await world.tearDown()
            throw error
        }
        await world.tearDown()
    }

    @Test func aKilledGreetersKeyExpiresAndWatchersSeeADelete() async throws {
        let world = try await EtcdWorld()
        do {
            let recorder = WatchRecorder(try await world.registry.watch(service: "greeter"))
            defer { recorder.cancel() }
            let ttl = 2
            let greeter = try await world.startGreeter(ttl: ttl, interval: 1)
            let node = try #require(try await world.registry.getService("greeter").first?.nodes.first)
            try await waitFor("the watcher to see the create") { recorder.events.contains { $0.action == .create } }

            greeter.kill(signal: SIGKILL)
            _ = try await greeter.waitForExit()
            let killedAt = ContinuousClock.now
            try await waitFor("the killed greeter's key to expire", timeout: .seconds(ttl + 4)) {
                try await world.registry.getService("greeter").isEmpty
            }
            let goneAfter = ContinuousClock.now - killedAt
            #expect(goneAfter < .seconds(ttl + 2), "gone within TTL + 2 s; took \(goneAfter)")
            try await waitFor("the watcher to see the delete", timeout: .seconds(3)) {
                recorder.events.contains { $0.action == .delete && $0.service.nodes.first?.id == node.id }
            }
            let delete = recorder.arrivals.first { $0.event.action == .delete }
            let deletedAt = delete?.at ?? .now
            print("kill -9: key gone \(goneAfter) after the kill; watcher's delete \(deletedAt - killedAt) after it (TTL \(ttl) s)")
            #expect(delete?.event.service.nodes.first?.address == node.address, "the delete carries the node's record")
        } catch {
            await world.tearDown()
            throw error
        }
        await world.tearDown()
    }
}
