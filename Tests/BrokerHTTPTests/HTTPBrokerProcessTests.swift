@testable import BrokerHTTP
import Foundation
import Logging
import MicroCore
import MicroTesting
import NIOCore
import RegistryFile
import Synchronization
import Testing

/// Subscribers in processes of their own, over a file registry: what survives a `kill -9`.
@Suite(.timeLimit(.minutes(2)))
struct HTTPBrokerProcessTests {
    /// A running `http-broker-subscriber`, its output in a file.
    final class SubscriberProcess: Sendable {
        let process: Process
        let output: URL

        init(directory: URL, name: String, registry: String, topic: String, queue: String?) throws {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("http-broker-subscriber")
            guard FileManager.default.isExecutableFile(atPath: binary.path) else {
                throw ConformanceFailure("\(binary.path) is missing: build it with `swift build --build-tests`")
            }
            output = directory.appendingPathComponent("\(name).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            let process = Process()
            process.executableURL = binary
            process.arguments = [registry, topic, queue ?? "-"]
            process.standardOutput = handle
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.process = process
        }

        /// The lines written so far, without the `ready` line.
        var messages: [String] {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init).filter { $0 != "ready" }
        }

        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// What the publishing lanes count.
    final class Tally: Sendable {
        let published = Mutex(0)
        let failures = Mutex<[String]>([])
    }

    @Test func killedQueueMemberLosesNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let registryPath = directory.appendingPathComponent("registry").path
        let topic = uniqueName("orders")
        let survivor = try SubscriberProcess(directory: directory, name: "survivor", registry: registryPath, topic: topic, queue: "workers")
        let victim = try SubscriberProcess(directory: directory, name: "victim", registry: registryPath, topic: topic, queue: "workers")
        let watcher = try SubscriberProcess(directory: directory, name: "broadcast", registry: registryPath, topic: topic, queue: nil)
        let processes = [survivor, victim, watcher]
        defer { for process in processes { process.kill() } }

        let fixture = BrokerFixture(registry: FileRegistry(configuration: .init(directory: registryPath)))
        try await fixture.run { fixture in
            let publisher = try await fixture.make()
            try await waitFor("the three subscriber processes in the publisher's cache", timeout: .seconds(30)) {
                let (broadcast, groups) = try await publisher.targets(of: topic)
                return broadcast.count == 1 && groups.first?.1.count == 2
            }
            // Eight publishers sharing the messages (2,000, or MICRO_TEST_BROKER_MESSAGES),
            // each publishing one after another; the victim dies a quarter of the way
            // through.
            let total = ProcessInfo.processInfo.environment["MICRO_TEST_BROKER_MESSAGES"].flatMap { Int($0) } ?? 2000
            let lanes = 8
            let tally = Tally()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<lanes {
                    group.addTask {
                        for index in stride(from: lane, to: total, by: lanes) {
                            do {
                                try await publisher.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "m\(index)")))
                            } catch {
                                tally.failures.withLock { $0.append("m\(index): \(error)") }
                            }
                            let count = tally.published.withLock { count in
                                count += 1
                                return count
                            }
                            if count == total / 4 { victim.kill() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let failures = tally.failures.withLock { $0 }
            #expect(failures.isEmpty, "\(failures.count) publishes failed, such as \(failures.prefix(5))")
            #expect(!victim.process.isRunning)
            let expected = Set((0..<total).map { "m\($0)" })
            try await waitFor("the broadcast subscriber's output", timeout: .seconds(10)) { Set(watcher.messages) == expected }
            let survived = survivor.messages
            let died = victim.messages
            let received = survived + died
            let duplicates = received.count - Set(received).count
            #expect(Set(received) == expected, "\(expected.subtracting(received).count) messages were lost")
            #expect(died.count > 0, "the victim handled nothing before it was killed")
            Logger(label: "BrokerHTTPTests").info(
                "kill -9 of a queue member",
                metadata: [
                    "published": "\(total)", "survivor": "\(survived.count)", "victim": "\(died.count)",
                    "distinct": "\(Set(received).count)", "duplicates": "\(duplicates)", "broadcast": "\(watcher.messages.count)",
                ]
            )
        }
    }
}
