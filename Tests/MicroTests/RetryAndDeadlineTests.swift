import Micro
import MicroCore
import Synchronization
import Testing

@Suite("Retries, timeouts and deadlines")
struct RetryAndDeadlineTests {
    let harness = Harness()

    /// A handler that fails `failures` times with `code`, then answers.
    func flaky(code: Int32, failures: Int, attempts: Recorder) throws -> MicroService {
        var router = Router()
        router.handle("Flaky.Call") { (request: Hello, _) -> Greeting in
            attempts.record(request.name)
            if attempts.all.count <= failures {
                throw MicroError(code: code, detail: "failure \(attempts.all.count)")
            }
            return Greeting(msg: "ok after \(attempts.all.count)")
        }
        return try harness.service("flaky", router)
    }

    @Test func a503IsRetriedAndTheCallSucceeds() async throws {
        let attempts = Recorder()
        let client = harness.runtime().client
        let answer = try await withServices([try flaky(code: 503, failures: 1, attempts: attempts)]) {
            try await client.call("flaky", "Flaky.Call", request: Hello(name: "x"), responseType: Greeting.self)
        }
        #expect(answer.msg == "ok after 2")
        #expect(attempts.all.count == 2)
    }

    @Test func a400IsNotRetried() async throws {
        let attempts = Recorder()
        let client = harness.runtime(retries: 3).client
        let error = try await withServices([try flaky(code: 400, failures: 1, attempts: attempts)]) {
            await microError {
                _ = try await client.call("flaky", "Flaky.Call", request: Hello(name: "x"), responseType: Greeting.self)
            }
        }
        #expect(error?.code == 400)
        #expect(attempts.all.count == 1, "exactly one attempt")
    }

    @Test func retriesStopAtTheConfiguredCount() async throws {
        let attempts = Recorder()
        let client = harness.runtime(retries: 2).client
        let error = try await withServices([try flaky(code: 503, failures: 10, attempts: attempts)]) {
            await microError {
                _ = try await client.call("flaky", "Flaky.Call", request: Hello(name: "x"), responseType: Greeting.self)
            }
        }
        #expect(error?.code == 503)
        #expect(attempts.all.count == 3)
    }

    @Test func aSlowHandlerGives408InTimeAndIsCancelled() async throws {
        let events = Recorder()
        var router = Router()
        router.handle("Slow.Call") { (_: Hello, _) -> Greeting in
            events.record("started")
            do {
                try await Task.sleep(for: .seconds(10))
            } catch {
                events.record("cancelled")
                throw error
            }
            return Greeting(msg: "late")
        }
        let client = harness.runtime(timeout: .milliseconds(300)).client
        try await withServices([try harness.service("slow", router)]) {
            let start = ContinuousClock.now
            let error = await microError {
                _ = try await client.call("slow", "Slow.Call", request: Hello(name: "x"), responseType: Greeting.self)
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == 408)
            #expect(elapsed >= .milliseconds(290))
            #expect(elapsed < .milliseconds(1500), "408 within the timeout plus a margin, took \(elapsed)")
            try await events.wait(for: 2)
            #expect(events.all == ["started", "cancelled"])
        }
    }

    @Test func aHandlersOutgoingCallsInheritTheDeadlineAndMetadata() async throws {
        let seen = Mutex<(Duration?, String?)>((nil, nil))
        var backend = Router()
        backend.handle("Backend.Call") { (_: Hello, context) in
            seen.withLock { $0 = (context.remaining, context.metadata["x-trace"]) }
            return Greeting(msg: "backend")
        }
        var frontend = Router()
        frontend.handle("Frontend.Call") { (request: Hello, context) in
            try await context.client.call("backend", "Backend.Call", request: request, responseType: Greeting.self)
        }
        let client = harness.runtime().client
        try await withServices([try harness.service("backend", backend), try harness.service("frontend", frontend)]) {
            let answer = try await client.call(
                "frontend", "Frontend.Call", request: Hello(name: "x"), responseType: Greeting.self,
                options: CallOptions(timeout: .milliseconds(700), metadata: ["X-Trace": "t-1"])
            )
            #expect(answer.msg == "backend")
        }
        let (remaining, trace) = seen.withLock { $0 }
        let left = try #require(remaining)
        #expect(left <= .milliseconds(700), "the backend's deadline is the caller's, not the client's 5 s default: \(left)")
        #expect(left > .zero)
        #expect(trace == "t-1")
    }

    @Test func backoffFollowsGoMicro() {
        let backoff = Backoff()
        #expect(backoff.delay(forAttempt: 0) == .zero)
        #expect(backoff.delay(forAttempt: 1) == .milliseconds(100))
        #expect(backoff.delay(forAttempt: 2) == .milliseconds(600))
        #expect(backoff.delay(forAttempt: 40) == .seconds(120))
    }
}

@Suite("Graceful shutdown")
struct ShutdownTests {
    let harness = Harness()

    @Test func anInFlightCallCompletesAndTheNodeIsGone() async throws {
        let started = Recorder()
        var router = Router()
        router.handle("Slow.Call") { (_: Hello, _) -> Greeting in
            started.record("started")
            try await Task.sleep(for: .milliseconds(400))
            return Greeting(msg: "finished")
        }
        let service = try harness.service("slow", router)
        let client = harness.runtime().client
        let group = ServiceGroupHandle(service)
        try await group.start()
        async let answer = client.call("slow", "Slow.Call", request: Hello(name: "x"), responseType: Greeting.self)
        try await started.wait(for: 1)
        #expect(started.all.count == 1)
        await group.shutDown()
        #expect(try await answer.msg == "finished")
        try await group.wait()
        #expect(try await harness.registry.getService("slow").isEmpty)
    }
}
