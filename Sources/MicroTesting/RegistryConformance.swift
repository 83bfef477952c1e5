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
///
/// ## Watch events
///
/// The watch cases check the exact sequence of events, not only that an expected event
/// is among them: a backend that sends an event twice, reports `create` for a change or
/// sends events of other services fails. For one node, a watch of its service and a
/// watch of every service (`watch(service: nil)`) report, in the order of the changes:
/// - `create` when a node id appears that the store does not hold (its first register,
///   or a register after it was deregistered or expired), carrying the node;
/// - `update` when a node the store holds is registered again with different data
///   (address, node metadata, or the service's metadata or endpoints), carrying the new
///   data;
/// - `delete` when the node is deregistered or its TTL passes without a new register,
///   carrying the node that went away.
///
/// Each change is reported once. **Re-registering an unchanged node** (a heartbeat,
/// with or without a TTL) produces **no event, or one `update` per register carrying
/// the same data; never a `create` or a `delete`** while the node stays registered.
/// go-micro's etcd registry and `FileRegistry` report nothing, because nothing changed;
/// `EtcdRegistry` reports nothing when it only renews its own lease and an `update` when
/// it writes the key again (no TTL, or a client that did not register the node);
/// `MemoryRegistry` reports an `update`. Consumers therefore treat an `update` as
/// idempotent.
///
/// A case waits for each expected event before making the next change (a polling
/// backend may merge changes made between two polls), and after the last expected event
/// waits ``Options/quietPeriod`` for events that should not come.
///
/// ## Keep-alive
///
/// A node registered with a TTL and registered again every quarter of it stays visible to
/// another client for the whole time (three TTLs), read between the registers and not
/// only right after them, and goes away with one `delete` within the TTL and
/// ``Options/expiryGrace`` once the registers stop.
public enum RegistryConformance {
    /// Timing of the TTL and watch checks.
    public struct Options: Sendable {
        /// The TTL the expiry cases register with.
        public var ttl: Duration = .seconds(1)
        /// How long after the TTL an expired node may still be visible.
        public var expiryGrace: Duration = .seconds(3)
        /// How long to wait for a watch event or any single registry call.
        public var watchTimeout: Duration = .seconds(2)
        /// How long a case waits, after the events it expects, for events that must not
        /// come (duplicates, a late `create` or `delete`).
        public var quietPeriod: Duration = .milliseconds(500)

        /// The defaults: a 1 s TTL, 3 s grace, 2 s watch timeout, 0.5 s quiet period.
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
        Case("watchEventSequence", watchEventSequence),
        Case("watchReregisterUnchanged", watchReregisterUnchanged),
        Case("watchAllServices", watchAllServices),
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
        let revisions = event.service.nodes.compactMap { $0.metadata["rev"].map { "rev=\($0)" } }
        return "\(event.action.rawValue) \(event.service.name)@\(event.service.version) \(event.service.nodes.map(\.id))"
            + (revisions.isEmpty ? "" : " " + revisions.joined(separator: ","))
    }

    /// One event a case expects: its action, service and single node, and (for `create`
    /// and `update`) node metadata the event must carry.
    struct Expected: CustomStringConvertible {
        var action: RegistryEvent.Action
        var service: String
        var node: String
        var metadata: [String: String] = [:]

        static func create(_ service: String, _ node: String, _ metadata: [String: String] = [:]) -> Expected {
            Expected(action: .create, service: service, node: node, metadata: metadata)
        }

        static func update(_ service: String, _ node: String, _ metadata: [String: String] = [:]) -> Expected {
            Expected(action: .update, service: service, node: node, metadata: metadata)
        }

        static func delete(_ service: String, _ node: String) -> Expected {
            Expected(action: .delete, service: service, node: node)
        }

        func matches(_ event: RegistryEvent) -> Bool {
            event.action == action && event.service.name == service && event.service.nodes.map(\.id) == [node]
                && RegistryConformance.isSubset(metadata, of: event.service.nodes[0].metadata)
        }

        var description: String {
            "\(action.rawValue) \(service) [\(node)]" + metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        }
    }

    /// Throws unless `events` are exactly `expected`, in order.
    static func checkSequence(
        _ events: [RegistryEvent], _ expected: [Expected], _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let same = events.count == expected.count && zip(events, expected).allSatisfy { $1.matches($0) }
        if !same {
            throw ConformanceFailure(
                "\(what): expected exactly [\(expected.map(\.description).joined(separator: "; "))], "
                    + "saw [\(events.map(describe).joined(separator: "; "))]",
                file: file, line: line
            )
        }
    }

    /// Waits until `events` (filtered by `keep`) holds as many events as `expected`, then
    /// checks that they are exactly `expected`.
    static func expectSequence(
        _ events: EventRecorder<RegistryEvent>, _ expected: [Expected], _ what: String, timeout: Duration,
        keep: (RegistryEvent) -> Bool = { _ in true },
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let seen = try await events.waitUntil(
            "\(what): [\(expected.map(\.description).joined(separator: "; "))]", timeout: timeout, describe: describe,
            file: file, line: line
        ) { $0.filter(keep).count >= expected.count }
        try checkSequence(seen.filter(keep), expected, what, file: file, line: line)
    }

    /// Waits the quiet period, then checks that no event beyond `expected` arrived.
    static func expectNoMore(
        _ events: EventRecorder<RegistryEvent>, _ expected: [Expected], _ what: String, _ context: Context,
        keep: (RegistryEvent) -> Bool = { _ in true },
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        try await Task.sleep(for: context.options.quietPeriod)
        try checkSequence(events.events.filter(keep), expected, "\(what), after a quiet period of \(context.options.quietPeriod)", file: file, line: line)
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
        let name = uniqueName("conformance-get")
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
        let name = uniqueName("conformance-merge")
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
        let name = uniqueName("conformance-versions")
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
        let name = uniqueName("conformance-dereg")
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
        let name = uniqueName("conformance-last")
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
        let name = uniqueName("conformance-list")
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
        let name = uniqueName("conformance-unknown")
        let records = try await context.call("getService(unknown)") { try await registry.getService(name) }
        try expect(records.isEmpty, "expected [] for a service never registered, saw \(describe(records))")
    }

    static func reregisterIsIdempotent(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("conformance-idem")
        let service = record(name, nodes: [node(name, 1)])
        for _ in 0..<3 { try await context.register(registry, service) }
        let records = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "the node") { !$0.isEmpty }
        try expectEqual(records.count, 1, "records after registering the same node three times (\(describe(records)))")
        try expectEqual(nodeIDs(records), [node(name, 1).id], "nodes after registering the same node three times")
    }

    static func ttlExpiry(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("conformance-ttl")
        try await context.register(registry, record(name, nodes: [node(name, 1)]), ttl: context.options.ttl)
        _ = try await waitForService(context, registry, name, timeout: context.options.watchTimeout, expecting: "the node right after registering with a TTL") { !$0.isEmpty }
        _ = try await waitForService(
            context, registry, name, timeout: context.options.ttl + context.options.expiryGrace,
            expecting: "the node to expire after its TTL of \(context.options.ttl)"
        ) { $0.isEmpty }
    }

    /// A node re-registered every quarter of its TTL stays visible to another client
    /// throughout, well past its TTL (not only right after each register), without a
    /// `delete` or a second `create` on a watch; once the re-registers stop, it goes away
    /// with one `delete`.
    static func reregisterKeepsAlive(_ context: Context) async throws {
        let registry = try await context.registry()
        let reader = try await context.registry()
        let watching = try await context.registry()
        let name = uniqueName("conformance-keepalive")
        let service = record(name, nodes: [node(name, 1)])
        let id = node(name, 1).id
        let ttl = context.options.ttl
        let clock = ContinuousClock()
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }

        /// When each register returned.
        let registered = MutexBox<[ContinuousClock.Instant]>([])
        /// Polls that missed the node: when the poll started and when the last register had returned.
        let misses = MutexBox<[(at: ContinuousClock.Instant, lastRegister: ContinuousClock.Instant)]>([])
        let heartbeating = MutexBox(true)
        try await context.register(registry, service, ttl: ttl)
        registered.withLock { $0.append(clock.now) }
        let started = clock.now
        let heartbeats = ttl * 3
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { heartbeating.withLock { $0 = false } }
                while clock.now < started.advanced(by: heartbeats) {
                    try await Task.sleep(for: ttl / 4)
                    try await context.register(registry, service, ttl: ttl)
                    registered.withLock { $0.append(clock.now) }
                }
            }
            group.addTask {
                while heartbeating.withLock({ $0 }) {
                    let at = clock.now
                    let records = try await context.call("getService(\(name)) while re-registering") { try await reader.getService(name) }
                    if !nodeIDs(records).contains(id), let last = registered.withLock({ $0.last(where: { $0 <= at }) }) {
                        // A node whose last register returned less than half its TTL ago must be visible.
                        if at - last < ttl / 2 { misses.withLock { $0.append((at, last)) } }
                    }
                    try await Task.sleep(for: max(ttl / 20, .milliseconds(10)))
                }
            }
            try await group.waitForAll()
        }
        let missed = misses.withLock { $0 }
        if let first = missed.first {
            throw ConformanceFailure(
                "re-registering every \(ttl / 4) with TTL \(ttl): another client missed the node \(missed.count) time(s), first "
                    + "\(first.at - started) after the first register, \(first.at - first.lastRegister) after a register had returned"
            )
        }
        let count = registered.withLock { $0.count }
        let during = events.events
        let deletes = during.filter { $0.action == .delete }
        try expect(
            deletes.isEmpty && during.first.map({ $0.action == .create }) ?? false && during.dropFirst().allSatisfy { $0.action == .update }
                && during.count <= count,
            "while \(id) was re-registered \(count) times with TTL \(ttl), a watch must see one create and at most one update per "
                + "re-register (no delete, no second create); saw [\(during.map(describe).joined(separator: "; "))]"
        )
        // The heartbeats stopped: gone within the TTL and grace, with one delete.
        _ = try await waitForService(
            context, reader, name, timeout: ttl + context.options.expiryGrace, expecting: "the node to expire once re-registering stopped"
        ) { !nodeIDs($0).contains(id) }
        let seen = try await events.waitUntil("a delete event for \(id) after re-registering stopped", timeout: context.options.watchTimeout, describe: describe) {
            $0.contains { $0.action == .delete }
        }
        let expected = Array(repeating: Expected.update(name, id), count: seen.count - during.count - 1) + [Expected.delete(name, id)]
        try checkSequence(Array(seen.dropFirst(during.count)), expected, "events once re-registering stopped")
        try await Task.sleep(for: context.options.quietPeriod)
        try checkSequence(Array(events.events.dropFirst(during.count)), expected, "events once re-registering stopped, after a quiet period")
    }

    static func watchCreate(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("conformance-wcreate")
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, record(name, nodes: [node(name, 1)]))
        let expected = [Expected.create(name, node(name, 1).id)]
        try await expectSequence(events, expected, "registering one node", timeout: context.options.watchTimeout)
        try await expectNoMore(events, expected, "registering one node", context)
    }

    /// create → update (changed data) → delete (deregister) → create → delete (expiry),
    /// each exactly once and in that order.
    static func watchEventSequence(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("conformance-wsequence")
        let first = node(name, 1, metadata: ["rev": "1"])
        let changed = node(name, 1, metadata: ["rev": "2"])
        let second = node(name, 2, metadata: ["rev": "1"])
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        let timeout = context.options.watchTimeout
        var expected: [Expected] = []

        try await context.register(writer, record(name, nodes: [first]))
        expected.append(.create(name, first.id, ["rev": "1"]))
        try await expectSequence(events, expected, "registering a new node", timeout: timeout)

        try await context.register(writer, record(name, nodes: [changed]))
        expected.append(.update(name, first.id, ["rev": "2"]))
        try await expectSequence(events, expected, "registering the node again with changed metadata", timeout: timeout)

        try await context.call("deregister") { try await writer.deregister(record(name, nodes: [changed])) }
        expected.append(.delete(name, first.id))
        try await expectSequence(events, expected, "deregistering the node", timeout: timeout)

        try await context.register(writer, record(name, nodes: [second]), ttl: context.options.ttl)
        expected.append(.create(name, second.id, ["rev": "1"]))
        try await expectSequence(events, expected, "registering a second node with a TTL", timeout: timeout)

        expected.append(.delete(name, second.id))
        try await expectSequence(
            events, expected, "letting the second node's TTL of \(context.options.ttl) pass",
            timeout: context.options.ttl + context.options.expiryGrace + timeout
        )
        try await expectNoMore(events, expected, "the whole sequence", context)
    }

    /// Re-registering an unchanged node: no event or one `update` per register with the
    /// same data, never `create` or `delete` (see the rule in the suite's documentation).
    static func watchReregisterUnchanged(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("conformance-wunchanged")
        let registered = node(name, 1, metadata: ["rev": "1"])
        let service = record(name, nodes: [registered])
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, service)
        try await expectSequence(events, [.create(name, registered.id, ["rev": "1"])], "registering a new node", timeout: context.options.watchTimeout)
        let times = 3
        for _ in 0..<times { try await context.register(writer, service) }
        try await Task.sleep(for: context.options.quietPeriod)
        let afterCreate = events.events.dropFirst()
        let wrong = afterCreate.filter { !Expected.update(name, registered.id, ["rev": "1"]).matches($0) || $0.service.nodes[0].address != registered.address }
        try expect(
            wrong.isEmpty && afterCreate.count <= times,
            "re-registering an unchanged node \(times) times must give no event or at most one update with the same data per register; "
                + "saw [\(afterCreate.map(describe).joined(separator: "; "))]"
        )
        try await context.call("deregister") { try await writer.deregister(service) }
        let expected = [Expected.create(name, registered.id)]
            + [Expected](repeating: .update(name, registered.id), count: afterCreate.count)
            + [Expected.delete(name, registered.id)]
        try await expectSequence(events, expected, "deregistering the node after the re-registers", timeout: context.options.watchTimeout)
        try await expectNoMore(events, expected, "deregistering the node after the re-registers", context)
    }

    /// `watch(service: nil)` reports the changes of every service, each once and in order.
    static func watchAllServices(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let first = uniqueName("conformance-wall-a")
        let second = uniqueName("conformance-wall-b")
        let mine: @Sendable (RegistryEvent) -> Bool = { $0.service.name == first || $0.service.name == second }
        let events = EventRecorder(try await context.call("watch(service: nil)") { try await watching.watch(service: nil) })
        defer { events.cancel() }
        let timeout = context.options.watchTimeout
        var expected: [Expected] = []
        try await context.register(writer, record(first, nodes: [node(first, 1)]))
        expected.append(.create(first, node(first, 1).id))
        try await expectSequence(events, expected, "a watch of every service, registering \(first)", timeout: timeout, keep: mine)
        try await context.register(writer, record(second, nodes: [node(second, 1)]))
        expected.append(.create(second, node(second, 1).id))
        try await expectSequence(events, expected, "a watch of every service, registering \(second)", timeout: timeout, keep: mine)
        try await context.call("deregister") { try await writer.deregister(record(first, nodes: [node(first, 1)])) }
        expected.append(.delete(first, node(first, 1).id))
        try await expectSequence(events, expected, "a watch of every service, deregistering \(first)", timeout: timeout, keep: mine)
        try await context.call("deregister") { try await writer.deregister(record(second, nodes: [node(second, 1)])) }
        expected.append(.delete(second, node(second, 1).id))
        try await expectSequence(events, expected, "a watch of every service, deregistering \(second)", timeout: timeout, keep: mine)
        try await expectNoMore(events, expected, "a watch of every service", context, keep: mine)
    }

    static func watchDeleteOnDeregister(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("conformance-wdelete")
        let service = record(name, nodes: [node(name, 1), node(name, 2)])
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, service)
        // One register call with two nodes: the two creates may come in either order.
        let created = try await events.waitUntil("create events for both nodes", timeout: context.options.watchTimeout, describe: describe) {
            $0.count >= 2
        }
        let byOrder = created.first?.service.nodes.first?.id == node(name, 2).id ? [2, 1] : [1, 2]
        var expected = byOrder.map { Expected.create(name, node(name, $0).id) }
        try checkSequence(created, expected, "registering a service with two nodes")
        let gone = record(name, nodes: [node(name, 1)])
        try await context.call("deregister") { try await writer.deregister(gone) }
        expected.append(.delete(name, node(name, 1).id))
        try await expectSequence(events, expected, "deregistering one of the two nodes", timeout: context.options.watchTimeout)
        try await expectNoMore(events, expected, "deregistering one of the two nodes", context)
    }

    static func watchDeleteOnExpiry(_ context: Context) async throws {
        let watching = try await context.registry()
        let writer = try await context.registry()
        let name = uniqueName("conformance-wexpire")
        let events = EventRecorder(try await context.call("watch") { try await watching.watch(service: name) })
        defer { events.cancel() }
        try await context.register(writer, record(name, nodes: [node(name, 1)]), ttl: context.options.ttl)
        let id = node(name, 1).id
        let expected = [Expected.create(name, id), .delete(name, id)]
        try await expectSequence(
            events, expected, "registering a node with a TTL of \(context.options.ttl) and letting it pass",
            timeout: context.options.ttl + context.options.expiryGrace + context.options.watchTimeout
        )
        try await expectNoMore(events, expected, "a node's expiry", context)
    }

    static func watchIgnoresOtherServices(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("conformance-wmine")
        let other = uniqueName("conformance-wother")
        let events = EventRecorder(try await context.call("watch") { try await registry.watch(service: name) })
        defer { events.cancel() }
        try await context.register(registry, record(other, nodes: [node(other, 1)]))
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        let expected = [Expected.create(name, node(name, 1).id)]
        try await expectSequence(events, expected, "watch(service: \(name)) while \(other) registers too", timeout: context.options.watchTimeout)
        try await expectNoMore(events, expected, "watch(service: \(name)) while \(other) registers too", context)
    }

    static func twoWatchers(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("conformance-wtwo")
        let first = EventRecorder(try await context.call("watch 1") { try await registry.watch(service: name) })
        defer { first.cancel() }
        let second = EventRecorder(try await context.call("watch 2") { try await (try await context.registry()).watch(service: name) })
        defer { second.cancel() }
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        let expected = [Expected.create(name, node(name, 1).id)]
        for (label, events) in [("first", first), ("second", second)] {
            try await expectSequence(events, expected, "the \(label) of two watchers", timeout: context.options.watchTimeout)
        }
        try await Task.sleep(for: context.options.quietPeriod)
        for (label, events) in [("first", first), ("second", second)] {
            try checkSequence(events.events, expected, "the \(label) of two watchers, after a quiet period")
        }
    }

    static func cancelledWatchStops(_ context: Context) async throws {
        let registry = try await context.registry()
        let name = uniqueName("conformance-wcancel")
        let events = EventRecorder(try await context.call("watch") { try await registry.watch(service: name) })
        try await context.register(registry, record(name, nodes: [node(name, 1)]))
        try await events.waitUntil("a first event", timeout: context.options.watchTimeout, describe: describe) { !$0.isEmpty }
        events.cancel()
        try expect(try await events.waitFinished(timeout: context.options.watchTimeout), "a cancelled watch did not end within \(context.options.watchTimeout)")
        try await context.register(registry, record(name, nodes: [node(name, 2)]))
        let records = try await context.call("getService after cancelling a watch") { try await registry.getService(name) }
        try expectEqual(nodeIDs(records), [node(name, 1).id, node(name, 2).id], "nodes after registering with a cancelled watch")
    }
}
