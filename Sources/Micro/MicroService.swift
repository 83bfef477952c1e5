#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import Logging
public import MicroCore
public import ServiceLifecycle
import Synchronization
public import UnixSignals

/// A running service: it serves the router's handlers on the transport, registers its
/// node with every endpoint in the registry, renews the registration every interval
/// under a TTL, runs the router's subscribers on the broker, and shuts down in order.
///
/// ```swift
/// var router = Router()
/// router.handle("Greeter.Hello") { (request: HelloRequest, _) in HelloResponse(msg: "Hello \(request.name)") }
/// let service = try MicroService(name: "greeter", router: router, runtime: runtime)
/// try await service.serve()  // until SIGTERM or SIGINT
/// ```
///
/// On graceful shutdown (SIGTERM/SIGINT through ``serve(signals:)``, or a
/// `ServiceGroup`'s) or cancellation it shuts down in order:
/// 1. stops accepting: new connections are refused and new calls on open ones are
///    answered with ``MicroCore/MicroError/nodeDraining(_:)``, which clients send to
///    another node (no handler ran); its broker subscriptions take no new deliveries;
/// 2. deregisters its node and (through the broker) its subscriptions;
/// 3. lets in-flight calls and deliveries finish for up to ``Configuration/drainTimeout``;
/// 4. closes the listener and its connections;
/// 5. shuts the runtime's backends down (``MicroRuntime/shutdown()``): the broker's
///    listener, the selector's and cache's watches, the registry's heartbeats.
public final class MicroService: ServiceLifecycle.Service, Sendable {
    /// How the service presents itself and registers.
    public struct Configuration: Sendable {
        /// The service name, such as `greeter`.
        public var name: String
        /// The version; default `latest`.
        public var version: String = "latest"
        /// Service-level metadata.
        public var metadata: [String: String] = [:]
        /// Where to listen; default `127.0.0.1:0` (a free loopback port).
        public var address: String = "127.0.0.1:0"
        /// The address to register instead of the bound one (behind NAT, in a container).
        public var advertise: String?
        /// How long the registration lives without renewal; go-micro's 90 s.
        public var registerTTL: Duration = .seconds(90)
        /// How often the registration is renewed; go-micro's 30 s.
        public var registerInterval: Duration = .seconds(30)
        /// The content type assumed for a request or broker message that has none;
        /// default `application/json`. go-micro's servers and brokers assume
        /// `application/protobuf` there: set this to it where go-micro clients leave the
        /// content type out.
        public var defaultContentType: String = "application/json"
        /// How long shutdown waits for in-flight calls and deliveries; default 10 s.
        public var drainTimeout: Duration = .seconds(10)
        /// How many deliveries of one broker subscription run at once; default 16. More
        /// wait in the subscription's bounded buffer, which slows the publishers.
        public var maxConcurrentDeliveries: Int = 16

        /// Creates a configuration with the defaults.
        public init(name: String) {
            self.name = name
        }

        /// Reads `server_name` (when `name` is `nil`), `server_version`, `server_address`,
        /// `server_advertise`, `server_default_content_type`, `register_ttl` and
        /// `register_interval`.
        ///
        /// - Throws: ``OptionError`` for a value that cannot be used or a missing name.
        public init(name: String? = nil, options: MicroOptions) throws {
            guard let name = name ?? options[OptionKey.serverName], !name.isEmpty else {
                throw OptionError(key: OptionKey.serverName.name, message: "the service needs a name")
            }
            self.name = name
            if let version = options[OptionKey.serverVersion], !version.isEmpty { self.version = version }
            if let address = options[OptionKey.serverAddress], !address.isEmpty { self.address = address }
            if let advertise = options[OptionKey.serverAdvertise], !advertise.isEmpty { self.advertise = advertise }
            if let contentType = options[OptionKey.serverDefaultContentType], !contentType.isEmpty {
                defaultContentType = contentType
            }
            if let ttl = try options.duration(OptionKey.registerTTL.name) { registerTTL = ttl }
            if let interval = try options.duration(OptionKey.registerInterval.name) { registerInterval = interval }
        }
    }

    /// How the service presents itself and registers.
    public let configuration: Configuration
    /// The backends it runs on.
    public let runtime: MicroRuntime
    /// This instance's node id, `<name>-<uuid>`.
    public let nodeID: String
    /// The server that answers calls.
    public let server: RPCServer

    private let logger: Logger
    private let state = Mutex<State>(State())
    private let inFlight = InFlightCalls()

    private struct State {
        var address: String?
        var failure: (any Error)?
        var waiters: [CheckedContinuation<String, any Error>] = []
    }

    /// Creates a service over `runtime`.
    ///
    /// The router's subscribers subscribe through the runtime's broker; without one, they
    /// get the events publishers send over the transport.
    public init(
        configuration: Configuration,
        router: Router,
        runtime: MicroRuntime,
        logger: Logger? = nil
    ) {
        self.configuration = configuration
        self.runtime = runtime
        self.nodeID = "\(configuration.name)-\(UUID().uuidString.lowercased())"
        var logger = logger ?? runtime.logger
        logger[metadataKey: "service"] = "\(configuration.name)"
        self.logger = logger
        self.server = RPCServer(
            name: configuration.name, router: router, codecs: runtime.codecs,
            defaultContentType: configuration.defaultContentType, client: runtime.client, logger: logger
        )
    }

    /// Creates a service named `name` (or `--server_name`) configured from the runtime's
    /// options.
    ///
    /// - Throws: ``OptionError`` for an option value that cannot be used.
    public convenience init(name: String? = nil, router: Router, runtime: MicroRuntime, logger: Logger? = nil) throws {
        try self.init(configuration: Configuration(name: name, options: runtime.options), router: router, runtime: runtime, logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func serve(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(services: [self], gracefulShutdownSignals: signals, logger: logger)
        try await group.run()
    }

    /// The registered address, once the service is registered.
    ///
    /// - Throws: the error that stopped the service from starting.
    public func ready() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                if let address = state.address {
                    continuation.resume(returning: address)
                } else if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else {
                    state.waiters.append(continuation)
                }
            }
        }
    }

    /// The node this service registers at `address`.
    public func node(address: String) -> Node {
        var metadata = ["protocol": "mucp", "server": "mucp"]
        for (kind, key) in [(Plugin.Kind.registry, "registry"), (.transport, "transport"), (.broker, "broker")] {
            if let name = runtime.pluginNames[kind] { metadata[key] = name }
        }
        return Node(id: nodeID, address: address, metadata: metadata)
    }

    /// Serves, registers and heartbeats until graceful shutdown or cancellation, then
    /// shuts down in order (see the type's documentation).
    public func run() async throws {
        do {
            try await runtime.start()
        } catch {
            fail(error)
            throw error
        }
        let listener: any TransportListener
        do {
            listener = try await runtime.transport.listen(configuration.address)
        } catch {
            fail(error)
            await runtime.shutdown()
            throw error
        }
        let address = configuration.advertise ?? listener.address
        let record = ServiceRecord(
            name: configuration.name, version: configuration.version, metadata: configuration.metadata,
            endpoints: server.endpoints, nodes: [node(address: address)]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            let server = self.server
            let inFlight = self.inFlight
            group.addTask {
                // Calls to synchronous handlers may be answered on the listener's I/O
                // thread without a task; each is over within the read that brought it,
                // so none is counted in flight.
                try await listener.serve(immediately: { server.answerImmediately($0) }) { stream in
                    inFlight.enter()
                    await server.handle(stream)
                    inFlight.leave()
                }
            }
            var subscriptions: [BrokerSubscription] = []
            do {
                subscriptions = try await subscribe(in: &group)
                try await register(record, attempts: 3)
            } catch {
                fail(error)
                for subscription in subscriptions { await subscription.unsubscribe() }
                await listener.close()
                group.cancelAll()
                await runtime.shutdown()
                throw error
            }
            succeed(address)
            logger.info("service started", metadata: ["node": "\(nodeID)", "address": "\(address)", "registry": "\(runtime.pluginNames[.registry] ?? "custom")"])
            try? await cancelWhenGracefulShutdown { [self] in
                while true {
                    try await Task.sleep(for: configuration.registerInterval)
                    do {
                        try await register(record, attempts: 1)
                    } catch {
                        logger.warning("re-registration failed; retrying next interval", metadata: ["error": "\(error)"])
                    }
                }
            }
            // Shut down in order, in a task of its own so that cancellation of `run()`
            // does not cut it short.
            await Task { [self, subscriptions] in
                await shutDown(record, listener: listener, subscriptions: subscriptions)
            }.value
            group.cancelAll()
        }
        logger.info("service stopped", metadata: ["node": "\(nodeID)"])
    }

    /// Subscribes to the server's topics and starts a consumer for each subscription in
    /// `group`: it runs up to ``Configuration/maxConcurrentDeliveries`` deliveries at a
    /// time, acknowledges each once the subscribers returned and rejects it with their
    /// error (logged at warning by the server), so the broker can offer it to another
    /// member. A consumer counts as in flight until its subscription ended and its
    /// deliveries finished, so draining waits for them.
    private func subscribe(in group: inout ThrowingTaskGroup<Void, any Error>) async throws -> [BrokerSubscription] {
        guard let broker = runtime.broker else { return [] }
        var subscriptions: [BrokerSubscription] = []
        do {
            for subscription in server.subscriptions {
                subscriptions.append(try await broker.subscribe(subscription.topic, queue: subscription.queue))
            }
        } catch {
            for subscription in subscriptions { await subscription.unsubscribe() }
            throw error
        }
        for (wanted, subscription) in zip(server.subscriptions, subscriptions) {
            let server = self.server
            let limit = max(1, configuration.maxConcurrentDeliveries)
            inFlight.enter()
            group.addTask { [inFlight] in
                await withTaskGroup(of: Void.self) { deliveries in
                    var running = 0
                    do {
                        for try await delivery in subscription {
                            if running == limit {
                                await deliveries.next()
                                running -= 1
                            }
                            running += 1
                            deliveries.addTask {
                                do {
                                    try await server.deliver(delivery.message, to: wanted)
                                    delivery.acknowledge()
                                } catch {
                                    delivery.reject(error)
                                }
                            }
                        }
                    } catch {}
                }
                inFlight.leave()
            }
        }
        return subscriptions
    }

    private func register(_ record: ServiceRecord, attempts: Int) async throws {
        var attempt = 0
        while true {
            do {
                try await runtime.registry.register(record, ttl: configuration.registerTTL)
                return
            } catch {
                attempt += 1
                guard attempt < attempts else { throw error }
                logger.warning("registration failed; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: Backoff().delay(forAttempt: attempt))
            }
        }
    }

    /// The graceful shutdown, in order: stop accepting new calls (the server refuses new
    /// streams as draining, the listener new connections) → end the broker
    /// subscriptions (no new deliveries; the broker deregisters them) and deregister the
    /// node → drain the calls and deliveries in flight, up to ``Configuration/drainTimeout``
    /// → close the listener → shut the runtime's backends down (broker listener,
    /// selector and cache watches, registry).
    private func shutDown(_ record: ServiceRecord, listener: any TransportListener, subscriptions: [BrokerSubscription]) async {
        logger.info("shutting down: refusing new calls, deregistering", metadata: ["node": "\(nodeID)"])
        server.startDraining()
        await listener.stopAccepting()
        await withTaskGroup(of: Void.self) { group in
            for subscription in subscriptions {
                group.addTask { await subscription.unsubscribe() }
            }
        }
        do {
            try await runtime.registry.deregister(record)
        } catch {
            logger.warning("deregistration failed; the node expires after its TTL", metadata: ["error": "\(error)"])
        }
        if await !inFlight.waitUntilIdle(timeout: configuration.drainTimeout) {
            logger.warning("calls still in flight after the drain timeout; closing", metadata: ["timeout": "\(configuration.drainTimeout)"])
        }
        await listener.close()
        await runtime.shutdown()
    }

    private func succeed(_ address: String) {
        let waiters = state.withLock { state in
            state.address = address
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: address) }
    }

    private func fail(_ error: any Error) {
        let waiters = state.withLock { state in
            state.failure = error
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }
}

/// Counts calls in flight and lets shutdown wait for none.
final class InFlightCalls: Sendable {
    private let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    func enter() {
        state.withLock { $0.count += 1 }
    }

    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until no call is in flight or `timeout` passed; `true` when idle.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let idle = self.state.withLock { state in
                        if state.count == 0 { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if idle { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let idle = await group.next() ?? false
            group.cancelAll()
            if !idle {
                // Release the waiter so the group can finish.
                let waiters = state.withLock { state in
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
            return idle
        }
    }
}
