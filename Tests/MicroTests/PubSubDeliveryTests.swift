import CodecJSON
import Micro
import MicroCore
import MicroMemory
import MicroTesting
import Testing

/// The broker contract as services see it, with the memory broker and without a broker
/// (events over the transport).
@Suite("Delivery of events", .timeLimit(.minutes(1)))
struct PubSubDeliveryTests {
    let harness = Harness()

    struct Failed: Error {}

    @Test(arguments: [true, false])
    func aFailingMembersEventGoesToAnotherMember(withBroker: Bool) async throws {
        let handled = Recorder()
        let failing = Recorder()
        var failingRouter = Router()
        failingRouter.subscribe("orders", queue: "workers") { (event: Hello, _) in
            failing.record(event.name)
            throw Failed()
        }
        var workingRouter = Router()
        workingRouter.subscribe("orders", queue: "workers") { (event: Hello, _) in handled.record(event.name) }
        let services = [
            try harness.service("worker", failingRouter, withBroker: withBroker),
            try harness.service("worker", workingRouter, withBroker: withBroker),
        ]
        let client = harness.runtime(withBroker: withBroker).client
        let count = 10
        try await withServices(services) {
            // Acknowledged means handled: no waiting once publish returned.
            for index in 0..<count {
                let receipt = try await client.publish("orders", Hello(name: "\(index)"))
                #expect(receipt == BrokerReceipt(subscribers: 0, groups: 1))
            }
            #expect(handled.all.sorted() == (0..<count).map { "\($0)" }.sorted(), "failing member saw \(failing.all)")
        }
        #expect(!failing.all.isEmpty, "the failing member was never chosen first")
    }

    @Test(arguments: [true, false])
    func anEventNobodyHandledFailsThePublish(withBroker: Bool) async throws {
        var router = Router()
        router.subscribe("orders", queue: "workers") { (_: Hello, _) in throw Failed() }
        let client = harness.runtime(withBroker: withBroker).client
        try await withServices([try harness.service("worker", router, withBroker: withBroker)]) {
            await #expect(throws: (any Error).self) { try await client.publish("orders", Hello(name: "lost")) }
            return ()
        }
    }

    @Test func withoutABrokerAQueueGroupSpansServicesAndAWarmPublishAsksNoRegistry() async throws {
        let group = Recorder()
        let broadcast = Recorder()
        func member(_ service: String) throws -> MicroService {
            var router = Router()
            router.subscribe("orders", queue: "workers") { (event: Hello, _) in group.record("\(service):\(event.name)") }
            return try harness.service(service, router, withBroker: false)
        }
        var auditRouter = Router()
        auditRouter.subscribe("orders") { (event: Hello, _) in broadcast.record(event.name) }
        let registry = CountingRegistry(harness.registry)
        let runtime = MicroRuntime(registry: registry, transport: harness.transport, codecs: [JSONCodec()], logger: quiet)
        let count = 20
        try await withServices([try member("billing"), try member("shipping"), try harness.service("audit", auditRouter, withBroker: false)]) {
            try await runtime.client.publish("orders", Hello(name: "warm-up"))
            let warm = registry.lookups
            for index in 0..<count { try await runtime.client.publish("orders", Hello(name: "\(index)")) }
            #expect(registry.lookups == warm, "publishes to a warm topic asked the registry \(registry.lookups - warm) times")
        }
        let names = group.all.map { $0.split(separator: ":")[1] }.filter { $0 != "warm-up" }
        #expect(names.count == count, "one member of the group across both services gets each event: \(group.all)")
        #expect(Set(names).count == count)
        #expect(broadcast.all.count == count + 1)
    }
}
