import Synchronization
import Logging
import MicroCore
import MicroMemory
import MicroTesting
import NIOCore
import Testing

@Suite struct MemoryRegistryTests {
    @Test func pluginsShareOneRegistryPerProcess() async throws {
        let plugins = Plugins([.memoryRegistry, .memoryTransport, .memoryBroker])
        let options = MicroOptions(["registry": "memory", "transport": "memory", "broker": "memory"])
        let first = try plugins.makeRegistry(options)
        let second = try plugins.makeRegistry(options)
        let name = "shared-\(UInt32.random(in: 0...UInt32.max))"
        let service = ServiceRecord(name: name, nodes: [Node(id: "\(name)-1", address: "memory:1")])
        try await first.register(service)
        let seen = try await second.getService(name)
        #expect(seen.flatMap(\.nodes).map(\.id) == ["\(name)-1"])
        try await second.deregister(service)
        #expect(try await first.getService(name).isEmpty)
        #expect(try plugins.makeTransport(options) as? MemoryTransport === MemoryTransport.shared)
        #expect(try plugins.makeBroker(options, registry: first) as? MemoryBroker === MemoryBroker.shared)
    }

    @Test func freshInstancesAreSeparate() async throws {
        let a = MemoryRegistry()
        let b = MemoryRegistry()
        try await a.register(ServiceRecord(name: "only-a", nodes: [Node(id: "n", address: "x")]))
        #expect(try await b.getService("only-a").isEmpty)
        #expect(try await a.getService("only-a").count == 1)
    }

    @Test func reregisterEmitsUpdateNotCreate() async throws {
        let registry = MemoryRegistry()
        let recorder = WatchRecorder(try await registry.watch(service: "svc"))
        defer { recorder.cancel() }
        let service = ServiceRecord(name: "svc", nodes: [Node(id: "svc-1", address: "a")])
        try await registry.register(service)
        try await registry.register(service)
        try await registry.deregister(service)
        let events = try await recorder.waitUntil("three events") { $0.count >= 3 }
        #expect(events.map(\.action) == [.create, .update, .delete])
    }

    @Test func cancelledWatchIsReleased() async throws {
        let registry = MemoryRegistry()
        let watch = try await registry.watch()
        #expect(registry.watcherCount == 1)
        let task = Task { for try await _ in watch {} }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        _ = try await withTimeout(.seconds(5), "the cancelled watch loop to end") { await task.result }
        #expect(registry.watcherCount == 0)
    }

    @Test func expiredNodeIsInvisibleBeforeTheSweep() async throws {
        let registry = MemoryRegistry()
        try await registry.register(ServiceRecord(name: "ttl", nodes: [Node(id: "ttl-1", address: "a")]), ttl: .milliseconds(50))
        #expect(try await registry.getService("ttl").count == 1)
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await registry.getService("ttl").isEmpty)
        #expect(try await registry.listServices().isEmpty)
    }
}

@Suite struct MemoryTransportTests {
    @Test func generatedAddressesAreUnique() async throws {
        let transport = MemoryTransport()
        let first = try await transport.listen("")
        let second = try await transport.listen("memory:0")
        #expect(first.address != second.address)
        #expect(first.address.hasPrefix("memory:"))
        #expect(!second.address.hasSuffix(":0"))
        await first.close()
        await second.close()
        #expect(transport.boundAddresses.isEmpty)
    }

    @Test func addressInUseThrows() async throws {
        let transport = MemoryTransport()
        let listener = try await transport.listen("memory:svc")
        await #expect(throws: TransportError.self) { _ = try await transport.listen("memory:svc") }
        await listener.close()
        let again = try await transport.listen("memory:svc")
        #expect(again.address == "memory:svc")
        await again.close()
    }

    @Test func dialUnknownAddressNamesIt() async throws {
        let transport = MemoryTransport()
        do {
            _ = try await transport.dial("memory:nowhere", timeout: .seconds(1))
            Issue.record("dial to an unbound address succeeded")
        } catch let error as TransportError {
            #expect(error.code == .connectFailed)
            #expect(error.message.contains("no listener at memory:nowhere"))
        }
    }

    @Test func closedStreamsAreReleasedFromTheConnection() async throws {
        let transport = MemoryTransport()
        let listener = try await transport.listen("")
        let serving = Task {
            try await listener.serve { stream in
                while let message = try? await stream.receive() { try? await stream.send(message) }
                await stream.close()
            }
        }
        let connection = try await transport.dial(listener.address, timeout: .seconds(1))
        for _ in 0..<10 {
            let stream = try await connection.openStream()
            try await stream.send(TransportMessage(body: ByteBuffer(string: "x")))
            await stream.close()
            #expect(try await stream.receive() != nil)
            #expect(try await stream.receive() == nil)
        }
        #expect((listener as? MemoryListener)?.connectionCount == 1)
        await connection.close()
        #expect((listener as? MemoryListener)?.connectionCount == 0)
        await listener.close()
        try await serving.value
    }
}

@Suite struct MemoryBrokerTests {
    @Test func cancelledSubscriptionIsReleased() async throws {
        let broker = MemoryBroker()
        let subscription = try await broker.subscribe("t", queue: nil)
        #expect(broker.subscriberCount == 1)
        let task = Task { for try await _ in subscription {} }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        _ = try await withTimeout(.seconds(5), "the cancelled subscription loop to end") { await task.result }
        try await waitFor("the cancelled subscriber to be forgotten") { broker.subscriberCount == 0 }
        try await broker.publish("t", message: BrokerMessage())
    }

    @Test func unsubscribeForgetsTheSubscriberBeforeReturning() async throws {
        let broker = MemoryBroker()
        let subscription = try await broker.subscribe("t", queue: "q")
        await subscription.unsubscribe()
        #expect(broker.subscriberCount == 0)
        #expect(!subscription.isActive)
    }

    @Test func queueGroupTakesTurns() async throws {
        let broker = MemoryBroker()
        let got = Got()
        var readers: [Task<Void, any Error>] = []
        for name in ["a", "b"] {
            let subscription = try await broker.subscribe("t", queue: "q")
            readers.append(Task {
                try await subscription.handle { message in got.add(name, String(buffer: message.body)) }
            })
        }
        defer { for reader in readers { reader.cancel() } }
        for index in 0..<4 {
            try await broker.publish("t", message: BrokerMessage(body: ByteBuffer(string: "\(index)")))
        }
        #expect(got.all == ["a": ["0", "2"], "b": ["1", "3"]])
    }

    @Test func aSubscriberThatDoesNotAnswerFailsThePublishAfterTheDeliveryTimeout() async throws {
        var configuration = MemoryBroker.Configuration()
        configuration.deliveryTimeout = .milliseconds(100)
        let broker = MemoryBroker(configuration: configuration)
        let subscription = try await broker.subscribe("t", queue: nil)
        let held = Task { for try await delivery in subscription { try await Task.sleep(for: .seconds(10)); delivery.acknowledge() } }
        defer { held.cancel() }
        let error = await #expect(throws: BrokerError.self) {
            try await broker.publish("t", message: BrokerMessage())
        }
        #expect(error?.code == .notDelivered)
        #expect(error?.message.contains("within") == true)
    }
}

/// Messages received, by subscriber name.
private final class Got: Sendable {
    private let messages = Mutex<[String: [String]]>([:])

    func add(_ name: String, _ body: String) { messages.withLock { $0[name, default: []].append(body) } }
    var all: [String: [String]] { messages.withLock { $0 } }
}
