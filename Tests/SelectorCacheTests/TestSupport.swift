import Logging
import MicroCore
import MicroMemory
import Synchronization

struct RegistryDown: Error, CustomStringConvertible {
    var description: String { "registry down (test)" }
}

/// A memory registry that counts requests, can be made to fail, and can break its watches.
final class CountingRegistry: Registry {
    let base = MemoryRegistry()
    private struct State {
        var gets = 0
        var watches = 0
        var failing = false
        var getDelay: Duration = .zero
        var open: [RegistryWatch.Continuation] = []
    }
    private let state = Mutex(State())

    var gets: Int { state.withLock { $0.gets } }
    var watches: Int { state.withLock { $0.watches } }

    /// Makes every request fail (or succeed again).
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    /// Makes `getService` take this long.
    func setGetDelay(_ delay: Duration) { state.withLock { $0.getDelay = delay } }

    /// Ends every open watch with an error, as a lost connection would.
    func breakWatches() {
        let open = state.withLock { state in
            defer { state.open.removeAll() }
            return state.open
        }
        for continuation in open { continuation.finish(throwing: RegistryDown()) }
    }

    /// Delivers `event` to every open watch, as if the registry had reported it.
    func inject(_ event: RegistryEvent) {
        for continuation in state.withLock({ $0.open }) { continuation.yield(event) }
    }

    private func check() throws {
        if state.withLock({ $0.failing }) { throw RegistryDown() }
    }

    func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        try check()
        try await base.register(service, ttl: ttl)
    }

    func deregister(_ service: ServiceRecord) async throws {
        try check()
        try await base.deregister(service)
    }

    func getService(_ name: String) async throws -> [ServiceRecord] {
        let delay = state.withLock { state in
            state.gets += 1
            return state.getDelay
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        try check()
        return try await base.getService(name)
    }

    func listServices() async throws -> [ServiceRecord] {
        try check()
        return try await base.listServices()
    }

    func watch(service: String?) async throws -> RegistryWatch {
        state.withLock { $0.watches += 1 }
        try check()
        let upstream = try await base.watch(service: service)
        let forward = Mutex<Task<Void, Never>?>(nil)
        let (stream, continuation) = RegistryWatch.makeStream(onTermination: { forward.withLock { $0?.cancel() } })
        forward.withLock { task in
            task = Task {
                do {
                    for try await event in upstream { continuation.yield(event) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
        state.withLock { $0.open.append(continuation) }
        return stream
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
