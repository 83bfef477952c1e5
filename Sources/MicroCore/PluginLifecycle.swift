/// The start and the orderly end of a backend that holds resources: a listener, a
/// heartbeat, a watch, a poll thread.
///
/// Registries, brokers and selectors have this lifecycle, which the runtime drives:
/// `MicroRuntime.start()` starts the registry, then the broker and the selector, before a
/// service listens; `MicroRuntime.shutdown()` shuts them down in the reverse order once the
/// service has stopped accepting, deregistered, drained and closed its listener. A backend
/// with nothing to start or stop keeps the defaults, which do nothing.
///
/// ```swift
/// actor PollingRegistry: Registry {
///     private var poller: Task<Void, Never>?
///     func start() async throws { poller = Task { await self.poll() } }
///     func shutdown() async { poller?.cancel(); await poller?.value }
///     // ...
/// }
/// ```
///
/// Rules for implementers:
/// - `start()` is called once before the backend is used by a service, and may be called
///   again after `shutdown()`. It returns when the backend is ready (a listener bound),
///   and throws when it cannot be (the service then does not start).
/// - `shutdown()` releases what `start()` (or later use) acquired: it ends watches and
///   subscriptions still open, stops heartbeats and closes listeners. It never throws; it
///   logs what it could not release. Calls after it may fail.
public protocol PluginLifecycle: Sendable {
    /// Acquires what the backend needs to work; returns when it is ready.
    func start() async throws

    /// Releases everything the backend holds, in an orderly way.
    func shutdown() async
}

extension PluginLifecycle {
    /// Nothing to start.
    public func start() async throws {}

    /// Nothing to release.
    public func shutdown() async {}
}
