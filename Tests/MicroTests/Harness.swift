import CodecJSON
import Logging
import Micro
import MicroCore
import MicroMemory
import ServiceLifecycle
import Synchronization
import Testing

struct Hello: Codable, Sendable, Equatable {
    var name: String
}

struct Greeting: Codable, Sendable, Equatable {
    var msg: String
}

let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh in-memory world per test: registry, transport, broker.
struct Harness {
    let registry = MemoryRegistry()
    let transport = MemoryTransport()
    let broker = MemoryBroker()

    func runtime(
        retries: Int = 1,
        timeout: Duration = .seconds(5),
        selector: (any Selector)? = nil,
        interceptors: [any ClientInterceptor] = [],
        withBroker: Bool = true
    ) -> MicroRuntime {
        var configuration = RPCClient.Configuration()
        configuration.retries = retries
        configuration.requestTimeout = timeout
        configuration.backoff = Backoff(unit: .milliseconds(10))
        return MicroRuntime(
            registry: registry, transport: transport, codecs: [JSONCodec()], broker: withBroker ? broker : nil, selector: selector,
            clientInterceptors: interceptors, clientConfiguration: configuration, logger: quiet
        )
    }

    func service(
        _ name: String, _ router: Router, withBroker: Bool = true,
        configure: (inout MicroService.Configuration) -> Void = { _ in }
    ) throws -> MicroService {
        var configuration = MicroService.Configuration(name: name)
        configuration.drainTimeout = .seconds(2)
        configure(&configuration)
        return MicroService(configuration: configuration, router: router, runtime: runtime(withBroker: withBroker), logger: quiet)
    }
}

/// Runs `services` in a service group for the duration of `body`, then shuts them down
/// gracefully and waits for them to stop.
func withServices<T: Sendable>(_ services: [MicroService], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(services: services, logger: quiet)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            for service in services { _ = try await service.ready() }
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Expects `body` to throw a `MicroError` and returns it.
func microError(_ body: () async throws -> Void) async -> MicroError? {
    do {
        try await body()
        Issue.record("expected a MicroError, but the call succeeded")
        return nil
    } catch let error as MicroError {
        return error
    } catch {
        Issue.record("expected a MicroError, got \(type(of: error)): \(error)")
        return nil
    }
}

/// A thread-safe log of strings.
final class Recorder: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) {
        entries.withLock { $0.append(entry) }
    }

    var all: [String] { entries.withLock { $0 } }

    /// Waits until `count` entries are recorded or `timeout` passes.
    func wait(for count: Int, timeout: Duration = .seconds(3)) async throws {
        let deadline = ContinuousClock.now + timeout
        while all.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A service group started and stopped by hand.
final class ServiceGroupHandle: Sendable {
    private let group: ServiceGroup
    private let service: MicroService
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init(_ service: MicroService) {
        self.service = service
        self.group = ServiceGroup(services: [service], logger: quiet)
    }

    func start() async throws {
        let group = self.group
        task.withLock { $0 = Task { try await group.run() } }
        _ = try await service.ready()
    }

    func shutDown() async {
        await group.triggerGracefulShutdown()
    }

    func wait() async throws {
        try await task.withLock { $0 }?.value
    }
}
