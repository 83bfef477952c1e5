public import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
public import MicroCore
import NIOCore
import Synchronization

/// A registry in etcd v3, reached through its HTTP/JSON gateway, laid out as go-micro's
/// etcd registry so that go-micro and swift-micro services see each other.
///
/// Layout: one key per node, `/micro/registry/<service>/<node-id>` (every `/` in the
/// names replaced by `-`), whose value is the JSON of the service record holding just
/// that node. With a TTL the key is put under a lease of that many seconds (rounded up;
/// etcd may raise very short TTLs to its minimum, about 2 s); registering the same node
/// again renews the lease (`/v3/lease/keepalive`) and skips the put when the node's record
/// is unchanged. When etcd no longer knows the lease (it expired, or etcd lost it), a new
/// lease is granted and the key put again. Values under the prefix that are not service
/// records are skipped with a logged warning.
///
/// ```swift
/// let registry = try EtcdRegistry(configuration: .init(endpoints: [EtcdEndpoint(host: "10.0.0.5")]))
/// try await registry.register(record, ttl: .seconds(90))
/// for try await event in try await registry.watch(service: "greeter") { … }
/// ```
///
/// Failures are ``MicroCore/MicroError``s with id `go.micro.registry`: 503 when no
/// endpoint can be reached (the detail lists each endpoint tried and why), and etcd's own
/// message when etcd refuses a call.
///
/// The HTTP client is shared by every registry of the process with the same TLS settings
/// and lives as long as the process, so instances can be made and dropped freely. Call
/// ``shutdown()`` to end this instance's watches early.
public final class EtcdRegistry: Registry {
    /// How this registry was set up.
    public let configuration: Configuration

    let client: EtcdClient
    /// What this instance last wrote for each node key, with its lease.
    private let registrations = Mutex<[String: Registration]>([:])
    /// The continuations of this instance's open watches, for ``shutdown()``.
    let watches = Mutex<[Int: RegistryWatch.Continuation]>([:])
    let nextWatchID = Atomic<Int>(0)
    /// Keys of invalid values already warned about (key and mod revision).
    private let warned = Mutex<Set<String>>([])

    /// go-micro's key prefix.
    public static let prefix = "/micro/registry/"

    /// A node this instance registered: the record written and its lease.
    private struct Registration: Sendable {
        var record: ServiceRecord
        var leaseID: Int64?
        var ttlSeconds: Int64?
    }

    /// Creates a registry using the process-wide HTTP client for the configuration's
    /// TLS settings.
    ///
    /// - Throws: ``MicroCore/OptionError`` when the TLS CA file cannot be read.
    public convenience init(configuration: Configuration = Configuration()) throws {
        try self.init(configuration: configuration, httpClient: EtcdRegistry.sharedHTTPClient(tls: configuration.tls))
    }

    /// Creates a registry that sends through `httpClient`, which the caller owns and
    /// shuts down (after this registry's watches have ended). `configuration.tls` is not
    /// used; configure TLS on the client. Allow one connection per open watch plus a
    /// few in its connection pool.
    public init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.client = EtcdClient(
            endpoints: configuration.endpoints, http: httpClient, timeout: configuration.timeout,
            username: configuration.username, password: configuration.password, logger: configuration.logger
        )
    }

    /// Ends every watch this instance opened (their sequences finish) and forgets its
    /// leases. Registered nodes stay until deregistered or their leases expire. The HTTP
    /// client is process-wide and needs no shut-down; a client passed to
    /// ``init(configuration:httpClient:)`` is the caller's to shut down.
    public func shutdown() async {
        let open = watches.withLock { watches in
            defer { watches.removeAll() }
            return Array(watches.values)
        }
        for continuation in open { continuation.finish() }
        registrations.withLock { $0.removeAll() }
    }

    // MARK: keys

    /// `/micro/registry/<service>/<node-id>`, every `/` in the names replaced by `-`.
    public static func nodeKey(service: String, node: String) -> String {
        prefix + escape(service) + "/" + escape(node)
    }

    /// `/micro/registry/<service>/`: the prefix of a service's node keys.
    public static func servicePrefix(_ service: String) -> String {
        prefix + escape(service) + "/"
    }

    static func escape(_ name: String) -> String {
        String(name.map { $0 == "/" ? "-" : $0 })
    }

    // MARK: Registry

    /// Puts one key per node of `service`; with `ttl`, under a lease of that many
    /// seconds, renewed on each later call for the same node.
    ///
    /// - Throws: ``MicroCore/MicroError`` 400 for an empty service name or node id;
    ///   503 when etcd cannot be reached; etcd's refusal otherwise.
    public func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        try Self.validate(service)
        let seconds = ttl.map(Self.leaseSeconds)
        for node in service.nodes {
            var single = service
            single.nodes = [node]
            try await register(single, key: Self.nodeKey(service: service.name, node: node.id), ttlSeconds: seconds)
        }
    }

    private func register(_ single: ServiceRecord, key: String, ttlSeconds: Int64?) async throws {
        let previous = registrations.withLock { $0[key] }
        guard let ttlSeconds else {
            try await put(key: key, record: single, lease: nil)
            registrations.withLock { $0[key] = Registration(record: single, leaseID: nil, ttlSeconds: nil) }
            return
        }
        var alive: Int64?
        if let previous, let lease = previous.leaseID, previous.ttlSeconds == ttlSeconds {
            if try await keepAlive(lease) {
                alive = lease
            } else {
                configuration.logger.info("etcd lease expired; granting a new one", metadata: ["key": "\(key)", "lease": "\(lease)"])
            }
        }
        if alive != nil, previous?.record == single {
            return  // unchanged and the lease is alive: nothing to write, as go-micro
        }
        let lease: Int64
        if let alive {
            lease = alive
        } else {
            lease = try await grant(seconds: ttlSeconds)
        }
        try await put(key: key, record: single, lease: lease)
        registrations.withLock { $0[key] = Registration(record: single, leaseID: lease, ttlSeconds: ttlSeconds) }
    }

    /// Deletes the key of each node of `service`; keys already gone are fine.
    ///
    /// - Throws: ``MicroCore/MicroError`` 400 for an empty service name or node id;
    ///   503 when etcd cannot be reached.
    public func deregister(_ service: ServiceRecord) async throws {
        try Self.validate(service)
        for node in service.nodes {
            let key = Self.nodeKey(service: service.name, node: node.id)
            registrations.withLock { _ = $0.removeValue(forKey: key) }
            _ = try await client.post("/v3/kv/deleterange", EtcdWire.DeleteRangeRequest(key: Data(key.utf8)))
        }
    }

    /// The nodes of service `name`, one record per version (sorted by version) with
    /// that version's nodes merged (sorted by id); empty when there are none.
    ///
    /// A version's metadata and endpoints are those of its most recently written node.
    public func getService(_ name: String) async throws -> [ServiceRecord] {
        guard !name.isEmpty else { return [] }
        return Self.merge(try await records(prefix: Self.servicePrefix(name)))
    }

    /// Every service: one record per name and version with the nodes merged, sorted by
    /// name then version.
    public func listServices() async throws -> [ServiceRecord] {
        Self.merge(try await records(prefix: Self.prefix))
            .sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }

    // MARK: etcd calls

    /// The decoded values under `prefix` with their mod revisions; invalid ones are
    /// skipped with a warning.
    func records(prefix: String) async throws -> [(record: ServiceRecord, revision: Int64)] {
        let key = Data(prefix.utf8)
        let answer = try await client.call(
            "/v3/kv/range", EtcdWire.RangeRequest(key: key, range_end: EtcdWire.prefixEnd(key)), as: EtcdWire.RangeResponse.self
        )
        return (answer.kvs ?? []).compactMap { kv in
            decode(kv).map { ($0, kv.modRevision) }
        }
    }

    /// The service record in `kv`'s value, or `nil` (warned about once) when it is not
    /// one holding a node.
    func decode(_ kv: EtcdWire.KeyValue) -> ServiceRecord? {
        let reason: String
        do {
            let record = try JSONDecoder().decode(ServiceRecord.self, from: kv.value ?? Data())
            if !record.nodes.isEmpty { return record }
            reason = "the record holds no node"
        } catch {
            reason = "not a service record: \(error)"
        }
        let key = String(decoding: kv.key, as: UTF8.self)
        let isNew = warned.withLock { warned in
            if warned.count > 4096 { warned.removeAll() }
            return warned.insert("\(key)@\(kv.modRevision)").inserted
        }
        if isNew {
            configuration.logger.warning(
                "skipping an etcd value that is not a service record",
                metadata: ["key": "\(key)", "reason": "\(reason)"]
            )
        }
        return nil
    }

    private func put(key: String, record: ServiceRecord, lease: Int64?) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value = try encoder.encode(record)
        _ = try await client.post(
            "/v3/kv/put", EtcdWire.PutRequest(key: Data(key.utf8), value: value, lease: lease.map(EtcdWire.Int64Text.init))
        )
    }

    private func grant(seconds: Int64) async throws -> Int64 {
        let answer = try await client.call(
            "/v3/lease/grant", EtcdWire.LeaseGrantRequest(TTL: EtcdWire.Int64Text(seconds)), as: EtcdWire.LeaseGrantResponse.self
        )
        guard let id = answer.ID?.value, id != 0 else {
            throw MicroError.internalServerError("etcd granted no lease: \(answer.error ?? "no ID in the answer")", id: EtcdClient.errorID)
        }
        return id
    }

    /// Renews `lease` once; `false` when etcd no longer knows it.
    private func keepAlive(_ lease: Int64) async throws -> Bool {
        let bytes = try await client.post("/v3/lease/keepalive", EtcdWire.LeaseKeepAliveRequest(ID: EtcdWire.Int64Text(lease)))
        let line = String(buffer: bytes).split(separator: "\n").first.map(String.init) ?? ""
        let message = try client.decode(EtcdWire.LeaseKeepAliveMessage.self, from: ByteBuffer(string: line), path: "/v3/lease/keepalive")
        if let error = message.error {
            if error.message.contains("lease not found") { return false }
            throw MicroError.internalServerError("etcd refused to renew lease \(lease): \(error.message)", id: EtcdClient.errorID)
        }
        return (message.result?.TTL?.value ?? 0) > 0
    }

    // MARK: helpers

    static func validate(_ service: ServiceRecord) throws {
        guard !service.name.isEmpty else {
            throw MicroError.badRequest("cannot register a service with an empty name", id: EtcdClient.errorID)
        }
        for node in service.nodes where node.id.isEmpty {
            throw MicroError.badRequest("service \(service.name): a node has an empty id", id: EtcdClient.errorID)
        }
    }

    /// Whole seconds for a lease: rounded up, at least 1.
    static func leaseSeconds(_ ttl: Duration) -> Int64 {
        let (seconds, attoseconds) = ttl.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }

    /// One record per version, nodes merged and sorted by id; a version's other fields
    /// come from its most recently written node.
    static func merge(_ records: [(record: ServiceRecord, revision: Int64)]) -> [ServiceRecord] {
        var byKey: [String: (record: ServiceRecord, newest: Int64)] = [:]
        var order: [String] = []
        for (record, revision) in records {
            let key = record.name + "\u{0}" + record.version
            if var existing = byKey[key] {
                existing.record.nodes += record.nodes
                if revision > existing.newest {
                    existing.record.metadata = record.metadata
                    existing.record.endpoints = record.endpoints
                    existing.newest = revision
                }
                byKey[key] = existing
            } else {
                byKey[key] = (record, revision)
                order.append(key)
            }
        }
        return order.compactMap { byKey[$0]?.record }
            .map { record in
                var record = record
                record.nodes.sort { $0.id < $1.id }
                return record
            }
            .sorted { ($0.name, $0.version) < ($1.name, $1.version) }
    }
}
