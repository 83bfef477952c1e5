import Foundation
import Logging
import MicroCore
import MicroTesting
import Testing

@testable import RegistryFile

extension RegistryFileSuites {
    @Suite("FileRegistry watch")
    struct FileRegistryWatchTests {
        @Test("a watch on another instance sees create, update and delete within the poll interval")
        func latency() async throws {
            try await TemporaryDirectory.with { temp in
                let writer = FileRegistry.test(temp.registry)
                let reader = FileRegistry.test(temp.registry)
                try await writer.register(sampleService(nodes: [sampleNode("greeter-old")]))
                let recorder = WatchRecorder(try await reader.watch(service: "greeter"))
                defer { recorder.cancel() }
                let log = Logger(label: "test.registry.file")

                var latencies: [Duration] = []
                // create
                var changed = ContinuousClock.now
                try await writer.register(sampleService(nodes: [sampleNode("greeter-1")]))
                let created = try #require(try await recorder.wait { $0.action == .create })
                #expect(created.event.service.nodes.map(\.id) == ["greeter-1"])
                #expect(created.event.service.endpoints.count == 2)
                latencies.append(created.at - changed)

                // update: new content for the same node
                changed = ContinuousClock.now
                try await writer.register(sampleService(nodes: [sampleNode("greeter-1", port: 9999)]))
                let updated = try #require(try await recorder.wait(from: created.index + 1) { $0.action == .update })
                #expect(updated.event.service.nodes.first?.address == "127.0.0.1:9999")
                latencies.append(updated.at - changed)

                // delete: the event carries the node that went away
                changed = ContinuousClock.now
                try await writer.deregister(sampleService(nodes: [sampleNode("greeter-1")]))
                let deleted = try #require(try await recorder.wait(from: updated.index + 1) { $0.action == .delete })
                #expect(deleted.event.service.nodes.first?.id == "greeter-1")
                #expect(deleted.event.service.nodes.first?.address == "127.0.0.1:9999")
                latencies.append(deleted.at - changed)

                log.info("watch latency create/update/delete: \(latencies.map { "\(milliseconds($0)) ms" }.joined(separator: " / "))")
                for latency in latencies {
                    #expect(latency < .milliseconds(500))
                }
                // The node that existed before the watch started is not reported, and nothing else was.
                #expect(recorder.events.map(\.action) == [.create, .update, .delete])
            }
        }

        @Test("a watch of every service reports expiry as delete; a heartbeat alone is not an update")
        func expiryAndHeartbeat() async throws {
            try await TemporaryDirectory.with { temp in
                let writer = FileRegistry.test(temp.registry)
                let reader = FileRegistry.test(temp.registry)
                let recorder = WatchRecorder(try await reader.watch())
                defer { recorder.cancel() }
                // Heartbeats come every quarter of the TTL; the TTL leaves room for a late
                // heartbeat on a loaded machine.
                let ttl: Duration = .seconds(2)
                let service = sampleService(name: "pinger", nodes: [sampleNode("pinger-1")])
                try await writer.register(service, ttl: ttl)
                let created = try #require(try await recorder.wait { $0.action == .create })
                #expect(created.event.service.name == "pinger")
                // Heartbeats with unchanged content.
                var lastBeat = ContinuousClock.now
                for _ in 0..<3 {
                    try await Task.sleep(for: ttl / 4)
                    try await writer.register(service, ttl: ttl)
                    lastBeat = ContinuousClock.now
                }
                // Stop beating: the node expires and the watch reports it gone (after the
                // last heartbeat, not before), then the file is swept.
                let deleted = try #require(try await recorder.wait(from: created.index + 1, timeout: ttl + .seconds(5)) { $0.action == .delete })
                #expect(deleted.at > lastBeat, "the node expired while heartbeats were still coming")
                #expect(deleted.event.service.nodes.first?.id == "pinger-1")
                // Nothing between the create and the delete: a heartbeat alone is not an update.
                #expect(recorder.events.prefix(deleted.index + 1).map(\.action) == [.create, .delete])
                #expect(!exists(temp.registry + "/pinger/pinger-1.json"))
                // Another service appears in the same watch.
                try await writer.register(sampleService(name: "second", nodes: [sampleNode("second-1")]))
                #expect(try await recorder.wait { $0.action == .create && $0.service.name == "second" } != nil)
            }
        }

        @Test("a watch skips garbage files and ends when its consumer is cancelled")
        func garbageAndCancellation() async throws {
            try await TemporaryDirectory.with { temp in
                let capture = LogCapture()
                let reader = FileRegistry.test(temp.registry, logger: capture.logger())
                let recorder = WatchRecorder(try await reader.watch(service: "greeter"))
                try FileManager.default.createDirectory(atPath: temp.registry + "/greeter", withIntermediateDirectories: true)
                try Data("garbage".utf8).write(to: URL(fileURLWithPath: temp.registry + "/greeter/bad.json"))
                try await FileRegistry.test(temp.registry).register(sampleService(nodes: [sampleNode("good")]))
                let created = try #require(try await recorder.wait { $0.action == .create })
                #expect(created.event.service.nodes.first?.id == "good")
                try await Task.sleep(for: .milliseconds(150))
                #expect(recorder.events.count == 1)
                #expect(capture.warnings.contains { $0.metadata.contains("bad.json") })

                recorder.cancel()
                #expect(try await recorder.waitFinished(), "the watch did not end after cancellation")
                #expect(try await pollerStopped(capture), "the poller kept running after cancellation")
            }
        }

        @Test("the poller stops when the watch is dropped without being iterated")
        func droppedWatchStopsPoller() async throws {
            try await TemporaryDirectory.with { temp in
                let capture = LogCapture()
                let registry = FileRegistry.test(temp.registry, logger: capture.logger())
                do {
                    let watch = try await registry.watch(service: nil)
                    _ = watch
                }
                #expect(try await pollerStopped(capture), "the poller kept running after the watch was dropped")
            }
        }

        /// Whether the poller logged that it stopped, within a second.
        private func pollerStopped(_ capture: LogCapture) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < deadline {
                if capture.records.contains(where: { $0.message == "watch poller stopped" }) { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
    }
}

/// A duration in whole milliseconds, for logging.
func milliseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
}
