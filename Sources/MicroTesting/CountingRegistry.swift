public import MicroCore
import Synchronization

/// A registry in front of another that counts the requests reaching it, can be made to
/// fail or be slow, and can break its watches: for tests of what sits on top of a
/// registry (caches, selectors, brokers).
///
/// ```swift
/// let registry = CountingRegistry(MemoryRegistry())
/// _ = try await selector.select("greeter")
/// #expect(registry.gets == 1)
/// ```
public final class CountingRegistry: Registry {
    /// The registry that answers.
    public let base: any Registry

    /// The error a failing ``CountingRegistry`` throws.
    public struct Down: Error, Sendable, CustomStringConvertible {
        /// Creates the error.
        public init() {}
        /// `registry down (test)`.
        public var description: String { "registry down (test)" }
    }

    private struct State {
        var gets = 0
        var lists = 0
        var watches = 0
        var registers = 0
        var deregisters = 0
        var failing = false
        var getDelay: Duration = .zero
        var open: [RegistryWatch.Continuation] = []
    }

    private let state = Mutex(State())

    /// Counts the requests to `base`.
    public init(_ base: any Registry) {
        self.base = base
    }

    /// The number of ``getService(_:)`` calls.
    public var gets: Int { state.withLock { $0.gets } }
    /// The number of ``listServices()`` calls.
    public var lists: Int { state.withLock { $0.lists } }
    /// The number of lookups: ``gets`` plus ``lists``.
    public var lookups: Int { state.withLock { $0.gets + $0.lists } }
    /// The number of ``watch(service:)`` calls.
    public var watches: Int { state.withLock { $0.watches } }
    /// The number of ``register(_:ttl:)`` calls.
    public var registers: Int { state.withLock { $0.registers } }
    /// The number of ``deregister(_:)`` calls.
    public var deregisters: Int { state.withLock { $0.deregisters } }

    /// Makes every request throw ``Down`` (or succeed again).
    public func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    /// Makes ``getService(_:)`` take this long before answering.
    public func setGetDelay(_ delay: Duration) { state.withLock { $0.getDelay = delay } }

    /// Ends every open watch with ``Down``, as a lost connection would.
    public func breakWatches() {
        let open = state.withLock { state in
            defer { state.open.removeAll() }
            return state.open
        }
        for continuation in open { continuation.finish(throwing: Down()) }
    }

    /// Delivers `event` to every open watch, as if the registry had reported it.
    public func inject(_ event: RegistryEvent) {
        for continuation in state.withLock({ $0.open }) { continuation.yield(event) }
    }

    private func check() throws {
        if state.withLock({ $0.failing }) { throw Down() }
    }

    /// Counts, then registers in ``base``.
    public func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        state.withLock { $0.registers += 1 }
        try check()
        try await base.register(service, ttl: ttl)
    }

    /// Counts, then deregisters in ``base``.
    public func deregister(_ service: ServiceRecord) async throws {
        state.withLock { $0.deregisters += 1 }
        try check()
        try await base.deregister(service)
    }

    /// Counts, waits the delay set with ``setGetDelay(_:)``, then asks ``base``.
    public func getService(_ name: String) async throws -> [ServiceRecord] {
        let delay = state.withLock { state in
            state.gets += 1
            return state.getDelay
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        try check()
        return try await base.getService(name)
    }

    /// Counts, then asks ``base``.
    public func listServices() async throws -> [ServiceRecord] {
        state.withLock { $0.lists += 1 }
        try check()
        return try await base.listServices()
    }

    /// Counts, then forwards a watch of ``base`` that ``breakWatches()`` can end and
    /// ``inject(_:)`` can add to.
    public func watch(service: String?) async throws -> RegistryWatch {
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
