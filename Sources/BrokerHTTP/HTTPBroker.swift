import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
public import MicroCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// go-micro's HTTP broker, with acknowledged delivery.
///
/// **Subscribing.** ``start()`` binds an HTTP/1.1 listener (``Configuration/address``,
/// default `127.0.0.1:0`). Each subscription gets a node id `<topic>-<uuid>` and registers
/// as go-micro's subscribers do: service `micro.http.broker`, version the queue name or
/// `ff.http.broadcast`, the node's address the advertised listener address, metadata
/// `broker=http`, `topic`, `secure=false`, under a 60 s TTL renewed every 30 s. A delivery
/// is go-micro's `POST /?id=<node-id>` with the JSON `{"Header":{…},"Body":"<base64>"}`;
/// it is answered 200 once the subscription's consumer acknowledged it, and non-200 when
/// it rejected it (500), could not take it (503), or did not settle it within
/// ``Configuration/deliveryTimeout`` (504). Ending a subscription deregisters it.
///
/// **Publishing.** ``publish(_:message:)`` finds the subscribers of the topic in the
/// runtime's ``MicroCore/RegistryCache`` (no registry request per publish once warm) and
/// POSTs the message, as go-micro does, to every broadcast subscriber and to one member of
/// each queue group, chosen at random; a member that fails or answers non-200 has the
/// message sent to the next, with backoff, up to ``Configuration/publishAttempts`` POSTs.
/// It returns once every one acknowledged, so delivery is at least once within a group
/// while a member lives (a message may arrive twice); it throws ``MicroCore/BrokerError``
/// `notDelivered` naming what failed.
public final class HTTPBroker: Broker {
    /// The registry service every subscription registers under.
    public static let serviceName = "micro.http.broker"
    /// The registry version of broadcast subscriptions (those without a queue).
    public static let broadcastVersion = "ff.http.broadcast"

    /// The settings.
    public let configuration: Configuration
    /// Where subscriptions register.
    let registry: any Registry
    /// Where publishers find subscribers.
    let registryCache: RegistryCache
    var logger: Logger { configuration.logger }

    /// One live subscription.
    struct Subscriber {
        var topic: String
        var inbox: BrokerSubscription.Inbox
        var record: ServiceRecord
        var heartbeat: Task<Void, Never>?
        /// Held weakly: dropping the subscription must still end it; ``shutdown()`` ends
        /// those still alive.
        weak var subscription: BrokerSubscription?
    }

    struct State {
        var server: Server?
        var client: HTTPClient?
        var advertised: HostPort?
        var subscribers: [String: Subscriber] = [:]
        /// Fire-and-forget deliveries under way, cancelled by ``shutdown()``.
        var background: [UInt64: Task<Void, Never>] = [:]
        var nextBackground: UInt64 = 0
        /// POSTs that failed (a connection failure or a non-200 answer other than "gone").
        var failedPosts = 0
        /// The start under way or done; `nil` before ``start()`` and after ``shutdown()``.
        var starting: Task<Void, any Error>?
    }

    let state = Mutex(State())
    /// Queue members that could not be reached lately: tried last for 5 s, so a member
    /// that died without deregistering costs few failed POSTs until its TTL passes.
    let cooldown = NodeCooldown()

    /// Creates a broker; nothing is bound or registered until ``start()``.
    ///
    /// - Parameters:
    ///   - configuration: the settings.
    ///   - registry: where subscriptions register.
    ///   - registryCache: the runtime's cache over `registry`, where publishes find
    ///     subscribers.
    public init(configuration: Configuration = Configuration(), registry: any Registry, registryCache: RegistryCache) {
        self.configuration = configuration
        self.registry = registry
        self.registryCache = registryCache
    }

    /// The address registered for this broker's subscriptions (the listener's bound
    /// address, or ``Configuration/advertise``); `nil` before ``start()``.
    public var advertisedAddress: HostPort? {
        state.withLock { $0.advertised }
    }

    /// Binds the listener and creates the HTTP client that publishes.
    ///
    /// - Throws: ``MicroCore/BrokerError`` `unavailable` when the address cannot be parsed
    ///   or bound.
    public func start() async throws {
        // Concurrent and repeated calls share one start.
        let starting = state.withLock { state in
            if let starting = state.starting { return starting }
            let starting = Task { try await self.bindAndConnect() }
            state.starting = starting
            return starting
        }
        do {
            try await starting.value
        } catch {
            state.withLock { $0.starting = nil }
            throw error
        }
    }

    private func bindAndConnect() async throws {
        let bind: HostPort
        do {
            bind = try HostPort(parsing: configuration.address, anyHost: "0.0.0.0", allowsPortZero: true)
        } catch {
            throw BrokerError(.unavailable, "the HTTP broker's address \(error); set --broker_address")
        }
        let server: Server
        do {
            server = try await Server.start(on: bind, broker: self)
        } catch {
            throw BrokerError(.unavailable, "the HTTP broker cannot listen on \(bind): \(error); set --broker_address to a free host:port")
        }
        var advertised = HostPort(host: bind.host, port: server.port)
        if let advertise = configuration.advertise {
            do {
                advertised = try HostPort(parsing: advertise)
            } catch {
                await server.close()
                throw BrokerError(.unavailable, "the HTTP broker's advertise address \(error); set --broker_advertise")
            }
        } else if bind.host == "0.0.0.0" || bind.host == "::" {
            logger.warning(
                "the HTTP broker listens on every interface; subscribers register 127.0.0.1 and are reachable from this host only: set --broker_advertise",
                metadata: ["address": "\(bind.host):\(server.port)"]
            )
            advertised.host = "127.0.0.1"
        }
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.httpVersion = .http1Only
        clientConfiguration.decompression = .disabled
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxConnectionsPerSubscriber)
        )
        // A refused connection fails its POST at once (the client would otherwise retry
        // until the connect timeout): the publisher then tries the next member itself.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.timeout = .init(connect: .seconds(5))
        // Subscribers registered with secure=true are POSTed over HTTPS, verified unless
        // told otherwise.
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.tlsCAFile {
            guard FileManager.default.isReadableFile(atPath: file) else {
                await server.close()
                throw BrokerError(.unavailable, "cannot read the HTTP broker's CA file \(file); fix --broker_tls_ca_file")
            }
            tls.trustRoots = .file(file)
        }
        if configuration.tlsInsecure { tls.certificateVerification = .none }
        clientConfiguration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        state.withLock { state in
            state.server = server
            state.client = client
            state.advertised = advertised
        }
        logger.debug("HTTP broker listening", metadata: ["address": "\(advertised)"])
    }

    /// Ends the subscriptions still open (deregistering them), closes the listener and
    /// shuts the HTTP client down.
    public func shutdown() async {
        let subscriptions = state.withLock { state in state.subscribers.values.compactMap(\.subscription) }
        for subscription in subscriptions { await subscription.unsubscribe() }
        // Subscriptions already dropped but not yet forgotten.
        let leftovers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in leftovers {
            subscriber.heartbeat?.cancel()
            await deregister(subscriber.record)
        }
        let background = state.withLock { state in
            defer { state.background = [:] }
            return Array(state.background.values)
        }
        for task in background { task.cancel() }
        for task in background { await task.value }
        let (server, client) = state.withLock { state in
            defer {
                state.starting = nil
                state.server = nil
                state.client = nil
                state.advertised = nil
            }
            return (state.server, state.client)
        }
        await server?.close()
        if let client {
            do {
                try await client.shutdown()
            } catch {
                logger.warning("the HTTP broker's client did not shut down cleanly", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Subscribes to `topic`, in queue group `queue` if given: registers the subscription
    /// and returns once it is registered (and, within
    /// ``Configuration/visibilityTimeout``, visible in this process's registry cache).
    ///
    /// - Throws: ``MicroCore/BrokerError`` `unavailable` before ``start()``; the
    ///   registry's error when registering fails.
    public func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription {
        guard let address = advertisedAddress else {
            throw BrokerError(.unavailable, "the HTTP broker is not started; call start() (the runtime does) before subscribing to \(topic)")
        }
        let id = "\(topic)-\(UUID().uuidString.lowercased())"
        let (subscription, inbox) = BrokerSubscription.makeSubscription(
            topic: topic, queue: queue, capacity: configuration.capacity
        ) { [weak self] in
            await self?.forget(id)
        }
        let record = ServiceRecord(
            name: HTTPBroker.serviceName,
            version: subscription.queue ?? HTTPBroker.broadcastVersion,
            nodes: [Node(id: id, address: address.description, metadata: ["broker": "http", "topic": topic, "secure": "false"])]
        )
        state.withLock { state in
            state.subscribers[id] = Subscriber(topic: topic, inbox: inbox, record: record, heartbeat: nil, subscription: subscription)
        }
        do {
            try await registry.register(record, ttl: configuration.registerTTL)
        } catch {
            state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
            throw error
        }
        let heartbeat = Task { [weak self, interval = configuration.registerInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                do {
                    try await self.registry.register(record, ttl: self.configuration.registerTTL)
                } catch {
                    self.logger.warning("could not renew a subscription's registration", metadata: ["node": "\(id)", "error": "\(error)"])
                }
            }
        }
        let stillActive = state.withLock { state in
            guard state.subscribers[id] != nil else { return false }
            state.subscribers[id]?.heartbeat = heartbeat
            return true
        }
        if !stillActive { heartbeat.cancel() }
        await waitUntilVisible(id)
        return subscription
    }

    /// Waits until the registry cache lists node `id`, for at most
    /// ``Configuration/visibilityTimeout``.
    private func waitUntilVisible(_ id: String) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.visibilityTimeout)
        while clock.now < deadline, !Task.isCancelled {
            if let records = try? await registryCache.records(of: HTTPBroker.serviceName),
                records.contains(where: { $0.nodes.contains { $0.id == id } })
            {
                return
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        logger.debug("a subscription is registered but not yet in the registry cache", metadata: ["node": "\(id)"])
    }

    /// Forgets subscription `id` and deregisters it: its end handler.
    private func forget(_ id: String) async {
        guard let subscriber = state.withLock({ $0.subscribers.removeValue(forKey: id) }) else { return }
        subscriber.heartbeat?.cancel()
        await deregister(subscriber.record)
    }

    private func deregister(_ record: ServiceRecord) async {
        do {
            try await registry.deregister(record)
        } catch {
            logger.warning(
                "could not deregister a subscription; it stays in the registry until its TTL passes",
                metadata: ["node": "\(record.nodes.first?.id ?? "")", "error": "\(error)"]
            )
        }
    }

    /// The inbox of subscription `id`, if it is live.
    func inbox(for id: String) -> (topic: String, inbox: BrokerSubscription.Inbox)? {
        state.withLock { state in state.subscribers[id].map { ($0.topic, $0.inbox) } }
    }

    /// The POSTs of this broker's publishes that failed (a connection failure or a non-200
    /// answer other than "gone") and were retried or reported; for tests.
    var failedPosts: Int {
        state.withLock { $0.failedPosts }
    }

    /// The number of subscriptions this broker holds; for tests.
    public var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
    }
}
