import BrokerHTTP
import CodecJSON
import Logging
import Micro
import MicroCore
import MicroMemory
import MicroTesting
import ServiceLifecycle
import Synchronization
import Testing

/// Services that subscribe through the `http` broker, and a client that publishes
/// through it, each with a runtime of its own (as separate programs would have) over one
/// registry.
@Suite(.timeLimit(.minutes(1)))
struct HTTPBrokerServiceTests {
    struct Order: Codable, Sendable, Equatable {
        var id: Int
    }

    struct Failed: Error {}

    final class Seen: Sendable {
        let ids = Mutex<[Int]>([])
        func record(_ id: Int) { ids.withLock { $0.append(id) } }
        var all: [Int] { ids.withLock { $0 } }
    }

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A runtime made from plugins, as a program makes it: the `http` broker over the
    /// process-wide memory registry and transport.
    static func runtime() throws -> MicroRuntime {
        try MicroRuntime(
            plugins: Plugins([.memoryRegistry, .memoryTransport, .http, .json]),
            options: MicroOptions(["broker": "http"]), logger: quiet
        )
    }

    static func service(_ router: Router) throws -> MicroService {
        var configuration = MicroService.Configuration(name: uniqueName("worker"))
        configuration.drainTimeout = .seconds(2)
        return MicroService(configuration: configuration, router: router, runtime: try runtime(), logger: quiet)
    }

    @Test func eventsReachServicesThroughTheBroker() async throws {
        let topic = uniqueName("orders")
        let failing = Seen()
        let working = Seen()
        let audit = Seen()
        var failingRouter = Router()
        failingRouter.subscribe(topic, queue: "billing") { (order: Order, _) in
            failing.record(order.id)
            throw Failed()
        }
        var workingRouter = Router()
        workingRouter.subscribe(topic, queue: "billing") { (order: Order, _) in working.record(order.id) }
        var auditRouter = Router()
        auditRouter.subscribe(topic) { (order: Order, _) in audit.record(order.id) }
        let services = [try Self.service(failingRouter), try Self.service(workingRouter), try Self.service(auditRouter)]
        let publisher = try Self.runtime()
        #expect(publisher.pluginNames[.broker] == "http")
        let group = ServiceGroup(services: services, logger: Self.quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            do {
                for service in services { _ = try await withTimeout(.seconds(10), "service ready") { try await service.ready() } }
                try await publisher.withStarted {
                    for id in 0..<10 {
                        try await withTimeout(.seconds(10), "publish \(id)") { try await publisher.client.publish(topic, Order(id: id)) }
                    }
                }
                // Acknowledged means handled: nothing to wait for.
                #expect(working.all.sorted() == Array(0..<10), "the failing member saw \(failing.all)")
                #expect(audit.all.sorted() == Array(0..<10))
                await group.triggerGracefulShutdown()
                // Bounded by the suite's time limit.
                try await tasks.waitForAll()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
        // The services deregistered their subscriptions on the way down.
        let left = try await MemoryRegistry.shared.getService("micro.http.broker").flatMap(\.nodes).filter { $0.metadata["topic"] == topic }
        #expect(left.isEmpty)
    }
}
