@testable import BrokerHTTP
import Foundation
import Logging
import MicroCore
import MicroTesting
import NIOCore
import RegistryEtcd
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

        func terminate() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        }
    }

    /// What the publishing lanes count.
    final class Tally: Sendable {
        let published = Mutex(0)
        let failures = Mutex<[String]>([])
    }

    /// How the second queue member leaves a quarter of the way through.
    enum Leaving: String {
        case kill = "kill -9"
        case terminate = "SIGTERM"
    }

    /// Where the processes register: a file registry in the test's directory, or the
    /// shared etcd.
    enum SharedRegistry {
        case file
        case etcd
    }

    /// Two queue members and a broadcast subscriber in processes of their own; a
    /// publisher here publishes `total` messages from eight lanes while the second member
    /// leaves as `leaving` says, and waits until that member's process has exited.
    /// Returns the publisher's failed POSTs, the leaving member's exit status and last
    /// output line, and what each queue member received.
    func publishWhileAMemberLeaves(
        _ leaving: Leaving, over shared: SharedRegistry = .file
    ) async throws -> (failedPosts: Int, exitStatus: Int32, lastLine: String?, survived: [String], left: [String], total: Int) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let registryPath: String
        let registry: any Registry
        switch shared {
        case .file:
            registryPath = directory.appendingPathComponent("registry").path
            registry = FileRegistry(configuration: .init(directory: registryPath))
        case .etcd:
            let address = try sharedEtcdAddress()
            registryPath = "etcd://\(address)"
            registry = try EtcdRegistry(configuration: .init(endpoints: [try EtcdEndpoint(parsing: address)]))
        }
        let topic = uniqueName("orders")
        let survivor = try SubscriberProcess(directory: directory, name: "survivor", registry: registryPath, topic: topic, queue: "workers")
        let leaver = try SubscriberProcess(directory: directory, name: "leaver", registry: registryPath, topic: topic, queue: "workers")
        let watcher = try SubscriberProcess(directory: directory, name: "broadcast", registry: registryPath, topic: topic, queue: nil)
        let processes = [survivor, leaver, watcher]
        defer { for process in processes { process.kill() } }

        let fixture = BrokerFixture(registry: registry)
        return try await fixture.run { fixture in
            let publisher = try await fixture.make()
            try await waitFor("the three subscriber processes in the publisher's cache", timeout: .seconds(30)) {
                let (broadcast, groups) = try await publisher.targets(of: topic)
                return broadcast.count == 1 && groups.first?.1.count == 2
            }
            // 10,000 messages (or MICRO_TEST_BROKER_MESSAGES) at a steady rate of 1,000 a
            // second (MICRO_TEST_BROKER_RATE), shared by eight publishers that each wait for
            // their message's turn; the member leaves a quarter of the way through.
            let environment = ProcessInfo.processInfo.environment
            let total = environment["MICRO_TEST_BROKER_MESSAGES"].flatMap { Int($0) } ?? 10_000
            let rate = environment["MICRO_TEST_BROKER_RATE"].flatMap { Double($0) } ?? 1_000
            let lanes = 8
            let tally = Tally()
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<lanes {
                    group.addTask {
                        for index in stride(from: lane, to: total, by: lanes) {
                            let due = start + .seconds(Double(index) / rate)
                            if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                            do {
                                try await publisher.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "m\(index)")))
                            } catch {
                                tally.failures.withLock { $0.append("m\(index): \(error)") }
                            }
                            let count = tally.published.withLock { count in
                                count += 1
                                return count
                            }
                            if count == total / 4 {
                                switch leaving {
                                case .kill: leaver.kill()
                                case .terminate: leaver.terminate()
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await waitFor("the leaving member to exit", timeout: .seconds(10)) { !leaver.process.isRunning }
            let failures = tally.failures.withLock { $0 }
            #expect(failures.isEmpty, "\(failures.count) publishes failed, such as \(failures.prefix(5))")
            let expected = Set((0..<total).map { "m\($0)" })
            try await waitFor("the broadcast subscriber's output", timeout: .seconds(10)) { Set(watcher.messages) == expected }
            let survived = survivor.messages
            let left = leaver.messages.filter { $0 != "stopped" }
            let received = survived + left
            #expect(Set(received) == expected, "\(expected.subtracting(received).count) messages were lost")
            #expect(left.count > 0, "the leaving member handled nothing before it left")
            Logger(label: "BrokerHTTPTests").info(
                "\(leaving.rawValue) of a queue member",
                metadata: [
                    "registry": "\(shared)", "published": "\(total)", "survivor": "\(survived.count)", "leaver": "\(left.count)",
                    "distinct": "\(Set(received).count)", "duplicates": "\(received.count - Set(received).count)",
                    "broadcast": "\(watcher.messages.count)", "failed POSTs": "\(publisher.failedPosts)",
                ]
            )
            return (publisher.failedPosts, leaver.process.terminationStatus, leaver.messages.last, survived, left, total)
        }
    }

    @Test func killedQueueMemberLosesNothing() async throws {
        let outcome = try await publishWhileAMemberLeaves(.kill)
        #expect(outcome.lastLine != "stopped")
        // The dead member stays registered until its TTL passes, but once a POST to it
        // failed it is tried last for 5 s: the deliveries in flight when it died, and
        // about one per lane every 5 s.
        #expect(outcome.failedPosts <= 40, "\(outcome.failedPosts) POSTs failed")
    }

    @Test func killedQueueMemberLosesNothingOverEtcd() async throws {
        let outcome = try await publishWhileAMemberLeaves(.kill, over: .etcd)
        #expect(outcome.lastLine != "stopped")
        #expect(outcome.failedPosts <= 40, "\(outcome.failedPosts) POSTs failed")
    }

    @Test func terminatedQueueMemberDeregistersFirst() async throws {
        let outcome = try await publishWhileAMemberLeaves(.terminate)
        #expect(outcome.exitStatus == 0)
        #expect(outcome.lastLine == "stopped", "the member did not stop in order")
        // It deregistered before it stopped taking deliveries, and closed its listener
        // only after the publisher's cache dropped it: no POST failed, no retry needed.
        #expect(outcome.failedPosts == 0)
        #expect(outcome.survived.count + outcome.left.count == outcome.total, "no duplicates")
    }
}
