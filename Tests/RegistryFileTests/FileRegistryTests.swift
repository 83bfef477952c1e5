import Foundation
import Logging
import MicroCore
import MicroTesting
import Testing

@testable import RegistryFile

extension RegistryFileSuites {
    @Suite("FileRegistry")
    struct FileRegistryTests {
        @Test("register, get, list and deregister round-trip every field")
        func roundTrip() async throws {
            try await TemporaryDirectory.with { temp in
                let registry = FileRegistry.test(temp.registry)
                let service = sampleService(nodes: [sampleNode("greeter-b", port: 2), sampleNode("greeter-a", port: 1)])
                try await registry.register(service)

                let found = try await registry.getService("greeter")
                var expected = service
                expected.nodes.sort { $0.id < $1.id }
                #expect(found == [expected])
                #expect(try await registry.listServices().map(\.name) == ["greeter"])
                #expect(try await registry.getService("nobody") == [])

                // One file per node, holding the envelope with exactly that node and a null expiry.
                let file = temp.registry + "/greeter/greeter-a.json"
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
                #expect(object?["expires"] is NSNull)
                let stored = object?["service"] as? [String: Any]
                #expect((stored?["nodes"] as? [Any])?.count == 1)
                #expect(stored?["name"] as? String == "greeter")

                try await registry.deregister(ServiceRecord(name: "greeter", nodes: [Node(id: "greeter-a", address: "")]))
                #expect(try await registry.getService("greeter").first?.nodes.map(\.id) == ["greeter-b"])
                #expect(!exists(file))

                try await registry.deregister(service)
                #expect(try await registry.getService("greeter") == [])
                #expect(try await registry.listServices() == [])
                // Deregistering what is not there is fine.
                try await registry.deregister(service)
            }
        }

        @Test("versions are returned as separate records with their nodes merged")
        func versions() async throws {
            try await TemporaryDirectory.with { temp in
                let registry = FileRegistry.test(temp.registry)
                try await registry.register(sampleService(version: "1", nodes: [sampleNode("g-1"), sampleNode("g-2")]))
                try await registry.register(sampleService(version: "2", nodes: [sampleNode("g-3")]))
                try await registry.register(sampleService(name: "other", nodes: [sampleNode("o-1")]))
                let records = try await registry.getService("greeter")
                #expect(records.map(\.version) == ["1", "2"])
                #expect(records.map { $0.nodes.map(\.id) } == [["g-1", "g-2"], ["g-3"]])
                let listed = try await registry.listServices()
                #expect(Set(listed.map(\.name)) == ["greeter", "other"])
            }
        }

        @Test("two instances over one directory see each other, as two processes would")
        func twoInstances() async throws {
            try await TemporaryDirectory.with { temp in
                let first = FileRegistry.test(temp.registry)
                let second = FileRegistry.test(temp.registry)
                try await first.register(sampleService(nodes: [sampleNode("greeter-1")]))
                try await second.register(sampleService(nodes: [sampleNode("greeter-2")]))
                #expect(try await first.getService("greeter").first?.nodes.map(\.id) == ["greeter-1", "greeter-2"])
                #expect(try await second.getService("greeter").first?.nodes.map(\.id) == ["greeter-1", "greeter-2"])
                try await second.deregister(sampleService(nodes: [sampleNode("greeter-1")]))
                #expect(try await first.getService("greeter").first?.nodes.map(\.id) == ["greeter-2"])
            }
        }

        @Test("a node past its TTL is invisible and its file is swept")
        func ttlExpiry() async throws {
            try await TemporaryDirectory.with { temp in
                let registry = FileRegistry.test(temp.registry)
                // TTLs long enough that a loaded machine does not expire a node between
                // two lines of the test; the waits end as soon as the node is gone.
                let ttl: Duration = .seconds(1)
                try await registry.register(sampleService(nodes: [sampleNode("short")]), ttl: ttl)
                try await registry.register(sampleService(nodes: [sampleNode("forever")]))
                let file = temp.registry + "/greeter/short.json"
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
                let expires = try #require(object?["expires"] as? Double)
                #expect(abs(expires - (Date().timeIntervalSince1970 + 1)) < 5)

                #expect(try await registry.getService("greeter").first?.nodes.map(\.id) == ["forever", "short"])
                try await waitFor("the short node to expire", timeout: ttl + .seconds(5)) {
                    try await registry.getService("greeter").first?.nodes.map(\.id) == ["forever"]
                }
                #expect(!exists(file), "the expired node file was not swept")

                // Re-registering refreshes: a heartbeat every quarter of the TTL keeps the
                // node alive for twice its TTL, seen each time just before the next
                // heartbeat (unless the machine held the test back for half a TTL).
                let beat = sampleService(nodes: [sampleNode("beat")])
                try await registry.register(beat, ttl: ttl)
                var lastBeat = ContinuousClock.now
                var checked = 0
                for _ in 0..<8 {
                    try await Task.sleep(for: ttl / 4)
                    let readAt = ContinuousClock.now
                    let ids = try await registry.getService("greeter").first?.nodes.map(\.id)
                    if readAt - lastBeat < ttl / 2 {
                        #expect(ids == ["beat", "forever"], "\(readAt - lastBeat) after a heartbeat")
                        checked += 1
                    }
                    try await registry.register(beat, ttl: ttl)
                    lastBeat = ContinuousClock.now
                }
                #expect(checked > 0)

                try await registry.deregister(sampleService(nodes: [sampleNode("forever"), sampleNode("beat")]))
                try await registry.register(sampleService(name: "brief", nodes: [sampleNode("brief-1")]), ttl: .milliseconds(100))
                try await waitFor("the brief node to expire", timeout: .seconds(5)) { try await registry.listServices() == [] }
            }
        }

        @Test("a file that is not a node record is skipped with a warning")
        func garbageSkipped() async throws {
            try await TemporaryDirectory.with { temp in
                let capture = LogCapture()
                let registry = FileRegistry.test(temp.registry, logger: capture.logger())
                try await registry.register(sampleService(nodes: [sampleNode("greeter-1")]))
                let directory = temp.registry + "/greeter"
                try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/garbage.json"))
                try Data().write(to: URL(fileURLWithPath: directory + "/empty.json"))
                // Valid JSON that claims to belong elsewhere.
                let misplaced = #"{"service":{"name":"other","version":"1","nodes":[{"id":"x","address":"a"}]},"expires":null}"#
                try Data(misplaced.utf8).write(to: URL(fileURLWithPath: directory + "/x.json"))
                try Data("{}".utf8).write(to: URL(fileURLWithPath: temp.registry + "/junk.json"))
                try FileManager.default.createDirectory(atPath: directory + "/sub.json", withIntermediateDirectories: true)
                // A symbolic link is not followed, even to a valid record.
                try FileManager.default.createSymbolicLink(atPath: directory + "/linked.json", withDestinationPath: directory + "/greeter-1.json")

                #expect(try await registry.getService("greeter").first?.nodes.map(\.id) == ["greeter-1"])
                #expect(try await registry.listServices().map(\.name) == ["greeter"])
                #expect(try await registry.getService("other") == [])
                let warned = capture.warnings.map(\.metadata)
                #expect(warned.contains { $0.contains("garbage.json") })
                #expect(warned.contains { $0.contains("empty.json") })
                #expect(warned.contains { $0.contains("x.json") })
                // Each bad file is warned about once, not on every read.
                let count = capture.warnings.count
                _ = try await registry.getService("greeter")
                #expect(capture.warnings.count == count)
            }
        }

        @Test("names with / and .. stay inside the directory; empty names are rejected")
        func namesCannotEscape() async throws {
            try await TemporaryDirectory.with { temp in
                let registry = FileRegistry.test(temp.registry)
                let names = ["../evil", "..", ".", "a/b", "/abs", "ü n%i"]
                for name in names {
                    try await registry.register(ServiceRecord(name: name, nodes: [Node(id: "../../\(name)/../x", address: "h:1"), Node(id: "..", address: "h:2")]))
                }
                // Nothing was written beside the registry directory.
                #expect(allPaths(under: temp.path).allSatisfy { $0 == "registry" || $0.hasPrefix("registry/") })
                // Every service directory is one plain component directly under the registry.
                let top = try FileManager.default.contentsOfDirectory(atPath: temp.registry)
                #expect(top.count == names.count)
                #expect(top.allSatisfy { !$0.contains("/") && !$0.hasPrefix(".") })
                for name in names {
                    let found = try await registry.getService(name)
                    #expect(found.first?.name == name)
                    #expect(found.first?.nodes.map(\.id) == ["..", "../../\(name)/../x"])
                }
                #expect(Set(try await registry.listServices().map(\.name)) == Set(names))

                await #expect(throws: FileRegistryError.self) { try await registry.register(ServiceRecord(name: "", nodes: [sampleNode("a")])) }
                await #expect(throws: FileRegistryError.self) { try await registry.register(ServiceRecord(name: "svc", nodes: [Node(id: "", address: "x")])) }
                await #expect(throws: FileRegistryError.self) { try await registry.getService("") }
                await #expect(throws: FileRegistryError.self) { try await registry.register(ServiceRecord(name: String(repeating: "x", count: 300), nodes: [sampleNode("a")])) }
                do {
                    try await registry.register(ServiceRecord(name: "", nodes: [sampleNode("a")]))
                } catch let error as FileRegistryError {
                    #expect(error.code == .invalidName)
                    #expect(error.description.contains("empty"))
                }
            }
        }

        @Test("8 instances registering and reading 200 times each never see a torn or missing record")
        func concurrency() async throws {
            try await TemporaryDirectory.with { temp in
                let capture = LogCapture()
                let watcher = FileRegistry.test(temp.registry, logger: capture.logger())
                let recorder = WatchRecorder(try await watcher.watch(service: "busy"))
                defer { recorder.cancel() }
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            let registry = FileRegistry.test(temp.registry, logger: capture.logger())
                            for round in 0..<200 {
                                // Large metadata makes a torn write likely to be noticed.
                                var node = sampleNode("busy-\(worker)", port: round)
                                node.metadata["round"] = String(round)
                                node.metadata["payload"] = String(repeating: "p", count: 2000 + round)
                                try await registry.register(sampleService(name: "busy", nodes: [node]), ttl: .seconds(30))
                                // A short-lived node that comes and goes while others read.
                                let flicker = sampleService(name: "busy", nodes: [sampleNode("flicker-\(worker)")])
                                if round % 2 == 0 {
                                    try await registry.register(flicker)
                                } else {
                                    try await registry.deregister(flicker)
                                }
                                let records = try await registry.getService("busy")
                                let nodes = records.flatMap(\.nodes)
                                guard let mine = nodes.first(where: { $0.id == "busy-\(worker)" }) else {
                                    throw TestFailure("worker \(worker) round \(round): own node missing")
                                }
                                guard mine.metadata["round"] == String(round), mine.address == "127.0.0.1:\(round)" else {
                                    throw TestFailure("worker \(worker) round \(round): own node stale or torn: \(mine.metadata["round"] ?? "nil")")
                                }
                                for other in nodes where other.id.hasPrefix("busy-") {
                                    guard let payload = other.metadata["payload"], let otherRound = other.metadata["round"].flatMap(Int.init),
                                        payload.count == 2000 + otherRound
                                    else {
                                        throw TestFailure("torn record of \(other.id)")
                                    }
                                }
                                _ = try await registry.listServices()
                            // The registry's calls do not suspend; let the watcher's poller run.
                            await Task.yield()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let elapsed = ContinuousClock.now - started
                Logger(label: "test.registry.file").info("concurrency: 8 instances × 200 rounds took \(elapsed)")
                let warnings = capture.warnings.map { "\($0.message) \($0.metadata)" }
                let warningCount = warnings.count
                #expect(warningCount == 0, "torn or unreadable records, first: \(warnings.prefix(2))")
                #expect(try await watcher.getService("busy").flatMap(\.nodes).filter { $0.id.hasPrefix("busy-") }.count == 8)
                // The watcher saw every worker's node.
                #expect(try await recorder.wait { event in event.action == .create && event.service.nodes.first?.id == "busy-7" } != nil)
            }
        }
    }
}
