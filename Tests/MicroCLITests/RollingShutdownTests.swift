import Foundation
import Logging
import Micro
import MicroCore
import MicroTesting
import RegistryFile
import SelectorCache
import Synchronization
import Testing
import TransportTCP
import CodecJSON

/// A client that keeps calling while one of two `greeter` processes is stopped with
/// SIGTERM: the stopping node refuses new calls as draining, deregisters and drains, so
/// every call lands on a node that answers it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RollingShutdownTests {
    private struct Hello: Codable, Sendable { var name: String }
    private struct Greeting: Codable, Sendable { var msg: String }

    /// Calls made and the failures seen, shared by the calling tasks.
    private final class Tally: Sendable {
        private let state = Mutex<(calls: Int, failures: [String], stopped: Bool)>((0, [], false))
        func succeeded() { state.withLock { $0.calls += 1 } }
        func failed(_ error: any Error) { state.withLock { $0.calls += 1; $0.failures.append("\(error)") } }
        var calls: Int { state.withLock { $0.calls } }
        var failures: [String] { state.withLock { $0.failures } }
        var stopped: Bool { state.withLock { $0.stopped } }
        func stop() { state.withLock { $0.stopped = true } }
    }

    @Test func noCallFailsWhileANodeStopsWithSIGTERM() async throws {
        let world = try ProcessWorld()
        defer { world.tearDown() }
        let leaving = try await world.startGreeter(ttl: 30)
        let staying = try await world.startGreeter(ttl: 30)
        let runtime = try MicroRuntime(
            plugins: Plugins([.file, .tcp, .json, .cache]),
            options: MicroOptions(["registry": "file", "registry_address": world.directory.appendingPathComponent("registry").path]),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let tally = Tally()
        try await runtime.withStarted {
            try await withThrowingTaskGroup(of: Void.self) { callers in
                for caller in 0..<4 {
                    callers.addTask {
                        while !tally.stopped {
                            do {
                                let greeting = try await runtime.client.call(
                                    "greeter", "Greeter.Hello", request: Hello(name: "caller \(caller)"), responseType: Greeting.self
                                )
                                if greeting.msg == "Hello caller \(caller)" { tally.succeeded() } else { tally.failed(ProcessTestError("wrong answer \(greeting.msg)")) }
                            } catch {
                                tally.failed(error)
                            }
                        }
                    }
                }
                try await waitFor("calls to reach both nodes") { leaving.helloCount > 200 && staying.helloCount > 200 }
                leaving.kill(signal: SIGTERM)
                #expect(try await leaving.waitForExit() == 0, "\(leaving.logText.suffix(2_000))")
                let afterExit = tally.calls
                try await waitFor("1,000 more calls after the node exited") { tally.calls >= afterExit + 1_000 }
                tally.stop()
                try await callers.waitForAll()
            }
        }
        #expect(tally.failures.isEmpty, "\(tally.failures.count) of \(tally.calls) calls failed: \(tally.failures.prefix(5))")
        #expect(leaving.logText.contains("shutting down"), "the node shut down gracefully")
        #expect(try await world.registry.getService("greeter").flatMap(\.nodes).count == 1, "the stopped node deregistered")
    }
}
