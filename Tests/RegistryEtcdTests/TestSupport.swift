import Foundation
import Logging
import NIOCore
import MicroCore
import MicroTesting
import Synchronization
import Testing

@testable import RegistryEtcd

/// Every suite of this target, one test at a time: the expiry and watch tests measure
/// time, and the restart tests stop and start etcd processes.
@Suite(.serialized) enum RegistryEtcdSuites {}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A registry client of the shared etcd.
func sharedRegistry(logger: Logger = Logger(label: "test.registry.etcd")) throws -> EtcdRegistry {
    try EtcdRegistry(configuration: .init(endpoints: [try EtcdEndpoint(parsing: sharedEtcdAddress())], logger: logger))
}

func sampleNode(_ id: String, port: Int = 8080) -> Node {
    Node(id: id, address: "127.0.0.1:\(port)", metadata: ["protocol": "mucp", "transport": "tcp", "registry": "etcd", "server": "mucp", "broker": "http"])
}

/// Raw gateway calls for tests, through the registry's own client.
extension EtcdRegistry {
    /// Puts `value` at `key` with no lease.
    func rawPut(_ key: String, _ value: String) async throws {
        _ = try await client.post("/v3/kv/put", EtcdWire.PutRequest(key: Data(key.utf8), value: Data(value.utf8)))
    }

    /// The key-values under `prefix`.
    func rawRange(prefix: String) async throws -> [EtcdWire.KeyValue] {
        let key = Data(prefix.utf8)
        return try await client.call(
            "/v3/kv/range", EtcdWire.RangeRequest(key: key, range_end: EtcdWire.prefixEnd(key)), as: EtcdWire.RangeResponse.self
        ).kvs ?? []
    }

    /// etcd's current revision.
    func rawRevision() async throws -> Int64 {
        let key = Data(EtcdRegistry.prefix.utf8)
        return try await client.call(
            "/v3/kv/range", EtcdWire.RangeRequest(key: key, range_end: EtcdWire.prefixEnd(key), count_only: true),
            as: EtcdWire.RangeResponse.self
        ).header?.revision?.value ?? 0
    }

    /// Deletes every key under `prefix`.
    func rawDelete(prefix: String) async throws {
        let key = Data(prefix.utf8)
        _ = try await client.post("/v3/kv/deleterange", EtcdWire.DeleteRangeRequest(key: key, range_end: EtcdWire.prefixEnd(key)))
    }

    /// Posts a flat JSON object to a gateway path and returns the answer's text.
    func rawPost(_ path: String, _ fields: [String: String]) async throws -> String {
        String(buffer: try await client.post(path, fields))
    }
}
