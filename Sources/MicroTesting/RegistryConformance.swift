public import MicroCore

/// The behaviour every ``MicroCore/Registry`` backend must show.
///
/// ```swift
/// @Test(arguments: RegistryConformance.cases)
/// func registryConformance(_ check: RegistryConformance.Case) async throws {
///     let registry = MemoryRegistry()
///     try await check.run { registry }
/// }
/// ```
///
/// Every case uses service names of its own (random suffix), so the cases can run in
/// parallel against one shared server, and deregisters what it registered.
public enum RegistryConformance {
    /// Timing of the TTL and watch checks.
    public struct Options: Sendable {
        /// The TTL the expiry cases register with.
        public var ttl: Duration = .seconds(1)
        /// How long after the TTL an expired node may still be visible.
        public var expiryGrace: Duration = .seconds(3)
        /// How long to wait for a watch event or any single registry call.
        public var watchTimeout: Duration = .seconds(2)

        /// The defaults: a 1 s TTL, 3 s grace, 2 s watch timeout.
        public init() {}
    }

    /// One named check.
    public struct Case: Sendable, CustomStringConvertible {
        /// The check's name, such as `registerAndGet`.
        public let name: String
        private let body: @Sendable (Context) async throws -> Void

        fileprivate init(_ name: String, _ body: @escaping @Sendable (Context) async throws -> Void) {
            self.name = name
            self.body = body
        }

        /// The name.
        public var description: String { name }

        /// Runs the check.
        ///
        /// - Parameters:
        ///   - makeRegistry: returns a client of the store under test. A case may call
        ///     it more than once (to act as another client); every call within one run
        ///     must reach the same store. For an in-process backend, return one instance.
        ///   - options: timing.
        /// - Throws: ``ConformanceFailure`` naming the case and what differed.
        public func run(
            _ makeRegistry: @escaping @Sendable () async throws -> any Registry,
            options: Options = Options()
        ) async throws {
            let context = Context(makeRegistry: makeRegistry, options: options)
            try await runCase("RegistryConformance", name) {
                do {
                    try await body(context)
                } catch {
                    await context.cleanUp()
                    throw error
                }
                await context.cleanUp()
            }
        }
    }

    /// Every check.
    public static let cases: [Case] = [
        Case("registerAndGet", registerAndGet),
        Case("twoNodesSameVersionMerge", twoNodesSameVersionMerge),
        Case("twoVersionsTwoRecords", twoVersionsTwoRecords),
        Case("deregisterRemovesOnlyThatNode", deregisterRemovesOnlyThatNode),
        Case("lastNodeDeregisteredLeavesNothing", lastNodeDeregisteredLeavesNothing),
        Case("listServicesIncludesName", listServicesIncludesName),
        Case("unknownServiceIsEmpty", unknownServiceIsEmpty),
        Case("reregisterIsIdempotent", reregisterIsIdempotent),
        Case("ttlExpiry", ttlExpiry),
        Case("reregisterKeepsAlive", reregisterKeepsAlive),
        Case("watchCreate", watchCreate),
        Case("watchDeleteOnDeregister", watchDeleteOnDeregister),
        Case("watchDeleteOnExpiry", watchDeleteOnExpiry),
        Case("watchIgnoresOtherServices", watchIgnoresOtherServices),
        Case("twoWatchers", twoWatchers),
        Case("cancelledWatchStops", cancelledWatchStops),
    ]

    // MARK: - Support

    /// What a case works with.
    final class Context: Sendable {
        let makeRegistry: @Sendable () async throws -> any Registry
        let options: Options
        private let registered = RecordList()

        init(makeRegistry: @escaping @Sendable () async throws -> any Registry, options: Options) {
            self.makeRegistry = makeRegistry
            self.options = options
        }

        /// A client of the store, made within the watch timeout.
        func registry() async throws -> any Registry {
            let make = makeRegistry
            return try await withTimeout(options.watchTimeout, "makeRegistry()") { try await make() }
        }

        /// Runs one registry call within the watch timeout.
        func call<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withTimeout(options.watchTimeout, what, body)
        }

        /// Registers `service` and remembers it for clean-up.
        func register(_ registry: any Registry, _ service: ServiceRecord, ttl: Duration? = nil) async throws {
            registered.append(service)
            try await call("register(\(service.name))") { try await registry.register(service, ttl: ttl) }
        }

        /// Deregisters everything registered through ``register(_:_:ttl:)``, ignoring errors.
        func cleanUp() async {
            let services = registered.drain()
            guard !services.isEmpty, let registry = try? await registry() else { return }
            for service in services {
                _ = try? await call("clean-up deregister") { try await registry.deregister(service) }
            }
        }
    }

    /// The records registered by a case.
    final class RecordList: Sendable {
        private let items = MutexBox<[ServiceRecord]>([])
        func append(_ service: ServiceRecord) { items.withLock { $0.append(service) } }
        func drain() -> [ServiceRecord] { items.withLock { items in defer { items = [] }; return items } }
    }

    static func node(_ service: String, _ index: Int, metadata: [String: String] = [:]) -> Node {
        Node(id: "\(service)-node\(index)", address: "127.0.0.1:\(20000 + index)", metadata: metadata)
    }

    static func record(_ name: String, version: String = "1.0.0", nodes: [Node]) -> ServiceRecord {
        ServiceRecord(name: name, version: version, nodes: nodes)
    }

    static func describe(_ records: [ServiceRecord]) -> String {
        if records.isEmpty { return "[]" }
        return "[" + records.map { "\($0.name)@\($0.version) nodes \($0.nodes.map(\.id))" }.joined(separator: ", ") + "]"
    }

    static func describe(_ event: RegistryEvent) -> String {
        "\(event.action.rawValue) \(event.service.name)@\(event.service.version) \(event.service.nodes.map(\.id))"
    }

    static func nodeIDs(_ records: [ServiceRecord]) -> [String] {
        records.flatMap { $0.nodes.map(\.id) }.sorted()
    }

    /// Polls `getService(name)` until `done` holds or `timeout` passes.
    static func waitForService(
        _ context: Context, _ registry: any Registry, _ name: String, timeout: Duration, expecting what: String,
        file: StaticString = #filePath, line: UInt = #line,
        until done: @escaping ([ServiceRecord]) -> Bool
    ) async throws -> [ServiceRecord] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let records = try await context.call("getService(\(name))") { try await registry.getService(name) }
            if done(records) { return records }
            if clock.now >= deadline {
                throw ConformanceFailure("expected \(what) within \(timeout); getService(\(name)) gave \(describe(records))", file: file, line: line)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func isSubset(_ small: [String: String], of large: [String: String]) -> Bool {
        small.allSatisfy { large[$0.key] == $0.value }
    }

    // MARK: - Cases

    static func registerAndGet(_ context: Context) async throws {
        let writer = try await context.registry()
        let reader = try await context.registry()
        let name = uniqueName("get")
        let endpoint = Endpoint(
            name: "Greeter.Hello",
            request: EndpointValue(name: "HelloRequest", type: "HelloRequest", values: [
                EndpointValue(name: "name", type: "string"),
                EndpointValue(name: "count", type: "int64"),
            ]),
            response: EndpointValue(name: "HelloResponse", type: "HelloResponse", values: [
                EndpointValue(name: "greeting", type: "string"),
            ]),
            metadata: ["stream": "false", "kind": "unary"]
        )
        let streamEndpoint = Endpoint(name: "Greeter.Chat", metadata: ["stream": "true"])
        let node = Node(id: "\(name)-n1", address: "10.1.2.3:5001", metadata: ["protocol": "mucp", "transport": "tcp", "zone": "a"])
        let service = ServiceRecord(
            name: name, version: "2.1.0", metadata: ["owner": "conformance", "tier": "gold"],
            endpoints: [endpoint, streamEndpoint], nodes: [node]
        )
        try await context.register(writer, service)
        let records = try await waitForService(context, reader, name, timeout: context.options.watchTimeout, expecting: "one record with node \(node.id)") {
            !$0.isEmpty
        }
        try expectEqual(records.count, 1, "number of records for one registered version")
        let got = records[0]
        try expectEqual(got.name, name, "service name")
        try expectEqual(got.version, "2.1.0", "version")
        try expect(isSubset(service.metadata, of: got.metadata), "service metadata: expected \(service.metadata) to be kept, saw \(got.metadata)")
        let endpoints = got.endpoints.sorted { $0.name < $1.name }
        let expected = service.endpoints.sorted { $0.name < $1.name }
        try expectEqual(endpoints.map(\.name), expected.map(\.name), "endpoint names")
        for (seen, wanted) in zip(endpoints, expected) {
            try expectEqual(seen.request, wanted.request, "request value of \(wanted.name)")
            try expectEqual(seen.response, wanted.response, "response value of \(wanted.name)")
            try expect(isSubset(wanted.metadata, of: seen.metadata), "metadata of endpoint \(wanted.name): expected \(wanted.metadata), saw \(seen.metadata)")
        }
        try expectEqual(got.nodes.map(\.id), [node.id], "node ids")
        try expectEqual(got.nodes[0].address, node.address, "node address")
        try expect(isSubset(node.metadata, of: got.nodes[0].metadata), "node metadata: expected \(node.metadata), saw \(got.nodes[0].metadata)")
    }

    static func twoNodesSameVersionMerge(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("merge")
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        try await context.register(registry, record(name, nodes: [node(name, 2)]))
        let records = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "one record with two nodes") {
            nodeIDs($0).count >= 2
        }
        try expect(records.count == 1, "expected one record for one version with two nodes, saw \(describe(records))")
        try expectEqual(nodeIDs(records), [node(name, 1).id, node(name, 2).id], "merged node ids")
    }

    static func twoVersionsTwoRecords(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("versions")
        try await context.register(registry, record(name, version: "1.0.0", nodes: [node(name, 1)]))
        try await context.register(registry, record(name, version: "2.0.0", nodes: [node(name, 2)]))
        let records = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "two records") {
            nodeIDs($0).count >= 2
        }
        try expectEqual(records.map(\.version).sorted(), ["1.0.0", "2.0.0"], "versions of \(describe(records))")
        for record in records {
            let wanted = record.version == "1.0.0" ? node(name, 1).id : node(name, 2).id
            try expectEqual(record.nodes.map(\.id), [wanted], "nodes of version \(record.version)")
        }
    }

    static func deregisterRemovesOnlyThatNode(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("dereg")
        let first = record(name, nodes: [node(name, 1)])
        try await context.register(registry, first)
        try await context.register(registry, record(name, nodes: [node(name, 2)]))
        _ = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "two nodes") { nodeIDs($0).count == 2 }
        try await context.call("deregister") { try await registry.deregister(first) }
        let records = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "only \(node(name, 2).id) left") {
            nodeIDs($0) == [node(name, 2).id]
        }
        try expectEqual(records.count, 1, "records after deregistering one of two nodes")
    }

    static func lastNodeDeregisteredLeavesNothing(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("last")
        let service = record(name, nodes: [node(name, 1)])
        try await context.register(registry, service)
        _ = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "the node") { !$0.isEmpty }
        try await context.call("deregister") { try await registry.deregister(service) }
        _ = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "an empty array after the last node left") {
            $0.isEmpty
        }
    }

    static func listServicesIncludesName(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("list")
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: context.options.watchTimeout)
        while true {
            let services = try await context.call("listServices()") { try await registry.listServices() }
            if services.contains(where: { $0.name == name }) { return }
            if clock.now >= deadline {
                let names = services.map(\.name).filter { !$0.hasPrefix("conformance-") || $0.contains("-list-") }
                throw ConformanceFailure("expected listServices() to include \(name); saw \(services.count) services: \(names.prefix(20))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func unknownServiceIsEmpty(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("unknown")
        let records = try await context.call("getService(unknown)") { try await registry.getService(name) }
        try expect(records.isEmpty, "expected [] for a service never registered, saw \(describe(records))")
    }

    static func reregisterIsIdempotent(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("idem")
        let service = record(name, nodes: [node(name, 1)])
        for _ in 0..<3 { try await context.register(registry, service) }
        let records = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "the node") { !$0.isEmpty }
        try expectEqual(records.count, 1, "records after registering the same node three times (\(describe(records)))")
        try expectEqual(nodeIDs(records), [node(name, 1).id], "nodes after registering the same node three times")
    }

    static func ttlExpiry(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("ttl")
        try await context.register(registry, record(name, nodes: [node(name, 1)]), ttl: context.options.ttl)
        _ = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "the node right after registering with a TTL") { !$0.isEmpty }
        _ = try await waitForService(
            context, registry, name, timeout: context.options.ttl + context.options.expiryGrace,
            expecting: "the node to expire after its TTL of \(context.options.ttl)"
        ) { $0.isEmpty }
    }

    static func reregisterKeepsAlive(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("keepalive")
        let service = record(name, nodes: [node(name, 1)])
        let ttl = context.options.ttl
        try await context.register(registry, service, ttl: ttl)
        let clock = ContinuousClock()
        let until = clock.now.advanced(by: ttl * 2 + context.options.expiryGrace / 2)
        while clock.now < until {
            try await Task.sleep(for: ttl / 4)
            try await context.register(registry, service, ttl: ttl)
            let records = try await context.call("getService") { try await registry.getService(name) }
            try expectEqual(nodeIDs(records), [node(name, 1).id], "nodes while re-registering every \(ttl / 4) with TTL \(ttl)")
        }
    }

    static func watchCreate(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("wcreate")
        let events = EventCollector(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, record(name, nodes: [node(name, 1)]))
        let id = node(name, 1).id
        try await events.wait(for: "a create event for \(id)", timeout: context.options.watchTimeout, describe: describe) {
            $0.contains { $0.action == .create && $0.service.name == name && $0.service.nodes.contains { $0.id == id } }
        }
    }

    static func watchDeleteOnDeregister(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("wdelete")
        let service = record(name, nodes: [node(name, 1), node(name, 2)])
        let events = EventCollector(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, service)
        try await events.wait(for: "create events for both nodes", timeout: context.options.watchTimeout, describe: describe) {
            Set($0.filter { $0.action != .delete }.flatMap { $0.service.nodes.map(\.id) }).count == 2
        }
        let gone = record(name, nodes: [node(name, 1)])
        try await context.call("deregister") { try await writer.deregister(gone) }
        let id = node(name, 1).id
        let seen = try await events.wait(for: "a delete event carrying \(id)", timeout: context.options.watchTimeout, describe: describe) {
            $0.contains { $0.action == .delete && $0.service.nodes.contains { $0.id == id } }
        }
        let wrong = seen.filter { $0.action == .delete && $0.service.nodes.contains { $0.id == node(name, 2).id } }
        try expect(wrong.isEmpty, "deregistering \(id) also reported a delete of \(node(name, 2).id): \(wrong.map(describe))")
    }

    static func watchDeleteOnExpiry(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("wexpire")
        let events = EventCollector(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, record(name, nodes: [node(name, 1)]), ttl: context.options.ttl)
        let id = node(name, 1).id
        try await events.wait(
            for: "a delete event for \(id) after its TTL of \(context.options.ttl)",
            timeout: context.options.ttl + context.options.expiryGrace + context.options.watchTimeout, describe: describe
        ) {
            $0.contains { $0.action == .delete && $0.service.nodes.contains { $0.id == id } }
        }
    }

    static func watchIgnoresOtherServices(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("wmine")
        let other = uniqueName("wother")
        let events = EventCollector(try await context.call("watch") { try await registry.watch(service: name) })
        defer { events.cancel() }
        try await context.register(registry, record(other, nodes: [node(other, 1)]))
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        let seen = try await events.wait(for: "an event for \(name)", timeout: context.options.watchTimeout, describe: describe) {
            $0.contains { $0.service.name == name }
        }
        let foreign = seen.filter { $0.service.name != name }
        try expect(foreign.isEmpty, "watch(service: \(name)) delivered events of other services: \(foreign.map(describe))")
    }

    static func twoWatchers(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("wtwo")
        let first = EventCollector(try await context.call("watch 1") { try await registry.watch(service: name) })
        defer { first.cancel() }
        let second = EventCollector(try await context.call("watch 2") { try await (try await context.registry()).watch(service: name) })
        defer { second.cancel() }
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        let id = node(name, 1).id
        for (label, events) in [("first", first), ("second", second)] {
            try await events.wait(for: "the \(label) watcher to get a create event for \(id)", timeout: context.options.watchTimeout, describe: describe) {
                $0.contains { $0.action == .create && $0.service.nodes.contains { $0.id == id } }
            }
        }
    }

    static func cancelledWatchStops(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("wcancel")
        let events = EventCollector(try await context.call("watch") { try await registry.watch(service: name) })
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        try await events.wait(for: "a first event", timeout: context.options.watchTimeout, describe: describe) { !$0.isEmpty }
        events.cancel()
        try await events.waitForEnd(timeout: context.options.watchTimeout, what: "a cancelled watch to end")
        try await context.register(registry, record(name, nodes: [node(name, 2)]))
        let records = try await context.call("getService after cancelling a watch") { try await registry.getService(name) }
        try expectEqual(nodeIDs(records), [node(name, 1).id, node(name, 2).id], "nodes after registering with a cancelled watch")
    }
}
