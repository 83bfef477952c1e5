import MicroCore
import MicroMemory
import MicroTesting
import Synchronization
import Testing

/// The helpers MicroTesting exports for plugin tests.
@Suite struct TestHelperTests {
    @Test func withTimeoutReturnsTheResult() async throws {
        #expect(try await withTimeout(.seconds(5), "an answer") { 42 } == 42)
    }

    @Test func withTimeoutGivesUpOnAnOperationThatIgnoresCancellation() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: TimeLimitExceeded.self) {
            try await withTimeout(.milliseconds(100), "a stuck operation") {
                // Ignores cancellation for 3 s.
                let until = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        #expect(clock.now - started < .seconds(2), "the caller was held by the operation")
        #expect(error?.message == "timed out after 0.1 seconds waiting for a stuck operation")
    }

    @Test func withTimeoutEndsWhenItsCallerIsCancelled() async throws {
        let caller = Task {
            try await withTimeout(.seconds(30), "a long sleep") { try await Task.sleep(for: .seconds(30)) }
        }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        let result = try await withTimeout(.seconds(5), "the cancelled caller to return") { await caller.result }
        #expect(throws: CancellationError.self) { try result.get() }
    }

    @Test func waitForReturnsOnceTheConditionHoldsAndNamesWhatItWaitedFor() async throws {
        let calls = Mutex(0)
        try await waitFor("the third check", every: .milliseconds(1)) { calls.withLock { $0 += 1; return $0 == 3 } }
        #expect(calls.withLock { $0 } == 3)
        struct NotYet: Error {}
        let error = await #expect(throws: TimeLimitExceeded.self) {
            try await waitFor("something that never happens", timeout: .milliseconds(100)) { throw NotYet() }
        }
        #expect(error?.message.contains("waiting for something that never happens; the last check threw NotYet") == true, "\(String(describing: error))")
    }

    @Test func watchRecorderKeepsEventsInOrderAndWaits() async throws {
        let registry = MemoryRegistry()
        let name = uniqueName("recorder")
        let recorder = WatchRecorder(try await registry.watch(service: name))
        defer { recorder.cancel() }
        let service = ServiceRecord(name: name, nodes: [Node(id: "\(name)-1", address: "a")])
        try await registry.register(service)
        try await registry.deregister(service)
        let deleted = try #require(try await recorder.wait { $0.action == .delete })
        #expect(deleted.index == 1)
        #expect(recorder.events.map(\.action) == [.create, .delete])
        let error = await #expect(throws: TimeLimitExceeded.self) {
            try await recorder.waitUntil("a third event", timeout: .milliseconds(50)) { $0.count == 3 }
        }
        let detail = error?.detail ?? ""
        #expect(detail.hasPrefix("saw ") && detail.contains("create") && detail.contains("delete"), "\(String(describing: error))")
        recorder.cancel()
        #expect(try await recorder.waitFinished())
    }

    @Test func uniqueNamesDiffer() {
        let names = Set((0..<1000).map { _ in uniqueName("svc") })
        #expect(names.count == 1000)
        #expect(names.allSatisfy { $0.hasPrefix("svc-") })
    }

    @Test func freePortCanBeListenedOn() throws {
        let port = try freePort()
        #expect(port > 0 && port < 65536)
    }

    @Test func countingRegistryCountsAndFails() async throws {
        let registry = CountingRegistry(MemoryRegistry())
        _ = try await registry.getService("a")
        _ = try await registry.listServices()
        #expect(registry.gets == 1 && registry.lists == 1 && registry.lookups == 2)
        registry.setFailing(true)
        await #expect(throws: CountingRegistry.Down.self) { try await registry.getService("a") }
    }
}
