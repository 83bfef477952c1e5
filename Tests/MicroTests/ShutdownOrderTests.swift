import CodecJSON
import Micro
import MicroCore
import MicroMemory
import NIOCore
import ServiceLifecycle
import MicroTesting
import Synchronization
import Testing

/// The graceful shutdown's order, seen through recording test doubles: stop accepting →
/// deregister the node and the broker subscriptions → drain calls and deliveries → close
/// the listener → shut the broker and the registry down.
@Suite(.timeLimit(.minutes(1)))
struct ShutdownOrderTests {
    @Test func aServiceShutsDownInOrder() async throws {
        let journal = Recorder()
        let registry = RecordingRegistry(journal)
        let broker = RecordingBroker(journal)
        let transport = RecordingTransport(journal)
        let callGate = Gate()
        let deliveryGate = Gate()

        var router = Router()
        router.handle("Slow.Call") { (request: Hello, _: ServerContext) async throws -> Greeting in
            journal.record("call.started")
            await callGate.wait()
            journal.record("call.finished")
            return Greeting(msg: request.name)
        }
        router.subscribe("events") { (event: Hello, _: ServerContext) async throws in
            journal.record("delivery.started")
            await deliveryGate.wait()
            journal.record("delivery.finished")
        }
        let runtime = MicroRuntime(registry: registry, transport: transport, codecs: [JSONCodec()], broker: broker, logger: quiet)
        var configuration = MicroService.Configuration(name: "ordered")
        configuration.drainTimeout = .seconds(10)
        let service = MicroService(configuration: configuration, router: router, runtime: runtime, logger: quiet)
        let handle = ServiceGroupHandle(service)
        try await handle.start()
        let address = try await service.ready()
        #expect(journal.all.prefix(2) == ["registry.start", "broker.start"])

        // A call and a delivery in flight when the shutdown starts.
        let call = Task {
            try await runtime.client.call("ordered", "Slow.Call", request: Hello(name: "in flight"), responseType: Greeting.self)
        }
        let delivery = Task {
            try await broker.deliver(topic: "events", BrokerMessage(
                headers: [MicroHeader.contentType: "application/json"], body: ByteBuffer(string: #"{"name":"event"}"#)
            ))
        }
        try await waitFor("the call and the delivery to start") { journal.all.contains("call.started") && journal.all.contains("delivery.started") }

        let openConnection = try await transport.dial(address, timeout: .seconds(1))
        await handle.shutDown()
        try await waitFor("the node to deregister") { journal.all.contains("registry.deregister") }
        // Draining: a new call on an open connection is refused before any handler runs,
        // and a new connection is refused.
        let reply = try await openConnection.roundTrip(TransportMessage(
            headers: [
                MicroHeader.service: "ordered", MicroHeader.endpoint: "Slow.Call", MicroHeader.id: "late",
                MicroHeader.contentType: "application/json",
            ],
            body: ByteBuffer(string: #"{"name":"late"}"#)
        ), before: nil)
        let refusal = reply?.headers[MicroHeader.error].map(MicroError.parse)
        #expect(refusal?.isNodeDraining == true, "got \(String(describing: reply?.headers))")
        await #expect(throws: TransportError.self) { _ = try await transport.dial(address, timeout: .seconds(1)) }
        // The broker's unsubscribed inbox refuses new deliveries too.
        await #expect(throws: BrokerError.self) { try await broker.deliver(topic: "events", BrokerMessage()) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!journal.all.contains("listener.close"), "the listener closed before in-flight calls drained: \(journal.all)")

        callGate.open()
        deliveryGate.open()
        #expect(try await withTimeout(.seconds(10), "the call in flight to finish") { try await call.value } == Greeting(msg: "in flight"))
        try await withTimeout(.seconds(10), "the delivery in flight to finish") { try await delivery.value }
        try await withTimeout(.seconds(10), "the service to stop") { try await handle.wait() }

        let order = journal.all.filter { !$0.hasPrefix("registry.register") && !$0.hasSuffix(".started") }
        try #require(order.count == 10, "\(journal.all)")
        #expect(Array(order[0..<5]) == [
            "registry.start", "broker.start", "listener.stopAccepting", "broker.unsubscribe(events)", "registry.deregister",
        ], "\(journal.all)")
        #expect(Set(order[5..<7]) == ["call.finished", "delivery.finished"], "\(journal.all)")
        #expect(Array(order[7...]) == ["listener.close", "broker.shutdown", "registry.shutdown"], "\(journal.all)")
        #expect(journal.all.count { $0 == "call.started" } == 1, "the refused call reached its handler: \(journal.all)")
    }
}

/// Waits until `open()`.
private final class Gate: Sendable {
    private let isOpen = Atomic<Bool>(false)

    func open() { isOpen.store(true, ordering: .relaxed) }

    func wait() async {
        while !isOpen.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

/// A memory registry that records its lifecycle and registrations.
private final class RecordingRegistry: Registry {
    private let journal: Recorder
    private let base = MemoryRegistry()

    init(_ journal: Recorder) { self.journal = journal }

    func start() async throws { journal.record("registry.start") }
    func shutdown() async { journal.record("registry.shutdown") }
    func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        journal.record("registry.register")
        try await base.register(service, ttl: ttl)
    }
    func deregister(_ service: ServiceRecord) async throws {
        journal.record("registry.deregister")
        try await base.deregister(service)
    }
    func getService(_ name: String) async throws -> [ServiceRecord] { try await base.getService(name) }
    func listServices() async throws -> [ServiceRecord] { try await base.listServices() }
    func watch(service: String?) async throws -> RegistryWatch { try await base.watch(service: service) }
}

/// A broker whose subscriptions the test delivers to by hand, recording its lifecycle.
private final class RecordingBroker: Broker {
    private let journal: Recorder
    private let inboxes = Mutex<[String: BrokerSubscription.Inbox]>([:])

    init(_ journal: Recorder) { self.journal = journal }

    func start() async throws { journal.record("broker.start") }
    func shutdown() async { journal.record("broker.shutdown") }
    func publish(_ topic: String, message: BrokerMessage) async throws -> BrokerReceipt {
        try await deliver(topic: topic, message)
        return BrokerReceipt(subscribers: 1)
    }

    func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription {
        let journal = self.journal
        let (subscription, inbox) = BrokerSubscription.makeSubscription(topic: topic, queue: queue) {
            journal.record("broker.unsubscribe(\(topic))")
        }
        inboxes.withLock { $0[topic] = inbox }
        return subscription
    }

    func deliver(topic: String, _ message: BrokerMessage) async throws {
        guard let inbox = inboxes.withLock({ $0[topic] }) else { throw BrokerError(.unsubscribed, "no subscriber of \(topic)") }
        try await inbox.deliver(message)
    }
}

/// A memory transport whose listeners record when they stop accepting and close.
private final class RecordingTransport: Transport {
    private let journal: Recorder
    private let base = MemoryTransport()

    init(_ journal: Recorder) { self.journal = journal }

    func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        try await base.dial(address, timeout: timeout)
    }

    func listen(_ address: String) async throws -> any TransportListener {
        RecordingListener(base: try await base.listen(address), journal: journal)
    }
}

private final class RecordingListener: TransportListener {
    let base: any TransportListener
    let journal: Recorder

    init(base: any TransportListener, journal: Recorder) {
        self.base = base
        self.journal = journal
    }

    var address: String { base.address }

    func serve(_ handler: @escaping @Sendable (any TransportStream) async -> Void) async throws {
        try await base.serve(handler)
    }

    func stopAccepting() async {
        journal.record("listener.stopAccepting")
        await base.stopAccepting()
    }

    func close() async {
        journal.record("listener.close")
        await base.close()
    }
}
