@testable import BrokerHTTP
import MicroCore
import MicroMemory
import MicroTesting
import NIOCore
import Testing

/// The broker contract, registration and the plugin.
@Suite(.timeLimit(.minutes(1)))
struct HTTPBrokerTests {
    /// One registry for every case, as a shared registry would be across processes.
    static let registry = MemoryRegistry()

    @Test(arguments: BrokerConformance.cases)
    func conformance(_ check: BrokerConformance.Case) async throws {
        // A small buffer, below the pool's connections per subscriber, so that the
        // buffering check can fill it with POSTs in flight.
        let fixture = BrokerFixture(registry: HTTPBrokerTests.registry) { $0.capacity = 4 }
        var options = BrokerConformance.Options()
        options.maxBuffered = 4
        try await fixture.run { fixture in
            try await check.run({ try await fixture.make() }, options: options)
        }
    }

    @Test func registersAsGoMicroDoes() async throws {
        let fixture = BrokerFixture()
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            let topic = uniqueName("greeter.greetings")
            let broadcast = try await broker.subscribe(topic, queue: nil)
            let member = try await broker.subscribe(topic, queue: "workers")
            let second = try await broker.subscribe(topic, queue: nil)
            let records = try await fixture.registry.getService("micro.http.broker")
            let address = try #require(broker.advertisedAddress)
            #expect(address.host == "127.0.0.1")
            #expect(address.port > 0)
            #expect(Set(records.map(\.version)) == ["ff.http.broadcast", "workers"])
            for record in records {
                #expect(record.name == "micro.http.broker")
                #expect(record.metadata.isEmpty)
                #expect(record.endpoints.isEmpty)
                for node in record.nodes {
                    #expect(node.address == "127.0.0.1:\(address.port)")
                    #expect(node.metadata == ["broker": "http", "topic": topic, "secure": "false"])
                    // <topic>-<uuid>, the uuid lower-case.
                    let uuid = node.id.dropFirst(topic.count + 1)
                    #expect(node.id.hasPrefix(topic + "-"))
                    #expect(uuid.count == 36 && uuid == uuid.lowercased())
                }
            }
            let broadcastNodes = records.first { $0.version == "ff.http.broadcast" }?.nodes ?? []
            #expect(broadcastNodes.count == 2, "two subscriptions to one topic: two nodes, not one overwriting the other")
            #expect(Set(broadcastNodes.map(\.id)).count == 2)
            #expect(records.first { $0.version == "workers" }?.nodes.count == 1)
            _ = (broadcast, member, second)
        }
    }

    @Test func unsubscribeDeregisters() async throws {
        let counting = CountingRegistry(MemoryRegistry())
        let fixture = BrokerFixture(registry: counting)
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            let topic = uniqueName("leaving")
            let subscription = try await broker.subscribe(topic, queue: "q")
            #expect(try await counting.getService("micro.http.broker").flatMap(\.nodes).count == 1)
            try await withTimeout(.seconds(5), "unsubscribe()") { await subscription.unsubscribe() }
            // unsubscribe() returns once the node is deregistered: no waiting.
            #expect(try await counting.getService("micro.http.broker").flatMap(\.nodes).isEmpty)
            #expect(counting.deregisters == 1)
            #expect(broker.subscriberCount == 0)
        }
    }

    @Test func droppedSubscriptionDeregisters() async throws {
        let fixture = BrokerFixture()
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            var subscription: BrokerSubscription? = try await broker.subscribe(uniqueName("dropped"), queue: nil)
            #expect(subscription?.isActive == true)
            subscription = nil
            try await waitFor("the dropped subscription's node to be deregistered", timeout: .seconds(5)) {
                try await fixture.registry.getService("micro.http.broker").flatMap(\.nodes).isEmpty
            }
        }
    }

    @Test func registrationIsRenewed() async throws {
        let counting = CountingRegistry(MemoryRegistry())
        let fixture = BrokerFixture(registry: counting) { $0.registerInterval = .milliseconds(50) }
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            let subscription = try await broker.subscribe(uniqueName("renewed"), queue: nil)
            try await waitFor("three renewals", timeout: .seconds(5)) { counting.registers >= 4 }
            await subscription.unsubscribe()
            let registers = counting.registers
            try await Task.sleep(for: .milliseconds(200))
            #expect(counting.registers == registers, "renewals go on after unsubscribe()")
        }
    }

    @Test func shutdownEndsSubscriptionsAndDeregisters() async throws {
        let fixture = BrokerFixture()
        try await fixture.run { fixture in
            let broker = try await fixture.make()
            let subscription = try await broker.subscribe(uniqueName("shutdown"), queue: nil)
            try await withTimeout(.seconds(10), "shutdown()") { await broker.shutdown() }
            #expect(!subscription.isActive)
            #expect(try await fixture.registry.getService("micro.http.broker").flatMap(\.nodes).isEmpty)
            #expect(broker.advertisedAddress == nil)
            await #expect(throws: BrokerError.self) { try await broker.publish("x", message: BrokerMessage()) }
        }
    }

    @Test func concurrentStartsBindOnceAndRestartWorks() async throws {
        let fixture = BrokerFixture()
        try await fixture.run { fixture in
            let broker = HTTPBroker(registry: fixture.registry, registryCache: fixture.cache)
            async let first: Void = broker.start()
            async let second: Void = broker.start()
            _ = try await (first, second)
            let address = try #require(broker.advertisedAddress)
            try await broker.start()
            #expect(broker.advertisedAddress == address, "a second start() binds nothing new")
            await broker.shutdown()
            #expect(broker.advertisedAddress == nil)
            try await broker.start()
            let topic = uniqueName("restarted")
            let subscription = try await broker.subscribe(topic, queue: nil)
            let recorder = HTTPBrokerServerTests.Recorder(subscription)
            defer { recorder.cancel() }
            try await withTimeout(.seconds(5), "publish after a restart") {
                try await broker.publish(topic, message: BrokerMessage(body: ByteBuffer(string: "again")))
            }
            #expect(recorder.messages.withLock { $0.count } == 1)
            await broker.shutdown()
        }
    }

    @Test func pluginMakesTheBrokerFromItsContext() async throws {
        let plugins = Plugins([.http])
        let registry = MemoryRegistry()
        let cache = RegistryCache(registry: registry)
        let options = MicroOptions(["broker": "http", "broker_max_body_size": "2048"])
        let broker = try #require(try plugins.makeBroker(options, registry: registry, cache: cache) as? HTTPBroker)
        #expect(broker.configuration.maxBodySize == 2048)
        #expect(broker.advertisedAddress == nil, "a factory only builds; start() binds")
        #expect(throws: PluginError.self) { try plugins.makeBroker(options, registry: registry, cache: nil) }
        #expect(Plugin.http.options.map(\.name).contains("broker_address"))
    }

    @Test func configurationReadsOptions() throws {
        let options = MicroOptions([
            "broker_address": "0.0.0.0:0", "broker_advertise": "10.0.0.5:8080", "broker_max_body_size": "1024",
            "broker_delivery_timeout": "2s", "broker_read_timeout": "500ms", "broker_publish_attempts": "5",
            "broker_retry_backoff": "10ms", "broker_fire_and_forget": "true",
        ])
        let configuration = try HTTPBroker.Configuration(options: options)
        #expect(configuration.address == "0.0.0.0:0")
        #expect(configuration.advertise == "10.0.0.5:8080")
        #expect(configuration.maxBodySize == 1024)
        #expect(configuration.deliveryTimeout == .seconds(2))
        #expect(configuration.readTimeout == .milliseconds(500))
        #expect(configuration.publishAttempts == 5)
        #expect(configuration.retryBackoff == .milliseconds(10))
        #expect(configuration.fireAndForget)
        #expect(throws: OptionError.self) { try HTTPBroker.Configuration(options: MicroOptions(["broker_fire_and_forget": "maybe"])) }
        #expect(throws: OptionError.self) { try HTTPBroker.Configuration(options: MicroOptions(["broker_address": "nowhere"])) }
        #expect(throws: OptionError.self) { try HTTPBroker.Configuration(options: MicroOptions(["broker_publish_attempts": "0"])) }
        let defaults = HTTPBroker.Configuration()
        #expect(defaults.address == "127.0.0.1:0")
        #expect(defaults.maxBodySize == 4 * 1024 * 1024)
        #expect(defaults.registerTTL == .seconds(60))
        #expect(defaults.registerInterval == .seconds(30))
        #expect(!defaults.fireAndForget)
    }
}
