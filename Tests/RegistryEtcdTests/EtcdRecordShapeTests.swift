import Foundation
import MicroCore
import MicroTesting
import Testing

@testable import RegistryEtcd

extension RegistryEtcdSuites {
    /// The keys and values are go-micro's: records written by go-micro v5 are read, and
    /// records written here read as go-micro's `registry.Service`.
    @Suite struct EtcdRecordShapeTests {
        /// A node as go-micro v5 writes it (v4+ field order: node metadata first;
        /// endpoint request, response, metadata, name; `null` for nil maps and slices).
        static func goMicroValue(service: String, node: String, port: Int) -> String {
            """
            {"name":"\(service)","version":"latest","metadata":null,"endpoints":[{"request":{"name":"Request","type":"Request","values":[{"name":"name","type":"string","values":null}]},"response":{"name":"Response","type":"Response","values":[{"name":"msg","type":"string","values":null}]},"metadata":{},"name":"Say.Hello"},{"request":{"name":"Event","type":"Event","values":null},"response":null,"metadata":{"subscriber":"true","topic":"events"},"name":"Say.Event"}],"nodes":[{"metadata":{"broker":"http","protocol":"mucp","registry":"etcd","server":"mucp","transport":"http"},"id":"\(node)","address":"127.0.0.1:\(port)"}]}
            """
        }

        @Test func recordsWrittenByGoMicroAreRead() async throws {
            let registry = try sharedRegistry()
            let name = uniqueName("gomicro")
            let first = "\(name)-0b6f2bde-51c5-4d8e-9a7e-1f3d8b2f6a01"
            let second = "\(name)-5f9c1c62-7e0b-4a55-bb0e-2b1d8b7e9c02"
            defer { Task { try? await registry.rawDelete(prefix: EtcdRegistry.servicePrefix(name)) } }
            try await registry.rawPut(EtcdRegistry.nodeKey(service: name, node: first), Self.goMicroValue(service: name, node: first, port: 40001))
            try await registry.rawPut(EtcdRegistry.nodeKey(service: name, node: second), Self.goMicroValue(service: name, node: second, port: 40002))

            let records = try await registry.getService(name)
            try #require(records.count == 1, "one record for one version: \(records)")
            let record = records[0]
            #expect(record.name == name)
            #expect(record.version == "latest")
            #expect(record.metadata.isEmpty)
            #expect(record.nodes.map(\.id) == [first, second].sorted())
            #expect(record.nodes.map(\.address).sorted() == ["127.0.0.1:40001", "127.0.0.1:40002"])
            #expect(record.nodes[0].metadata["protocol"] == "mucp")
            let hello = try #require(record.endpoints.first { $0.name == "Say.Hello" })
            #expect(hello.request?.values.map(\.name) == ["name"])
            #expect(hello.request?.values.first?.values == [])
            #expect(hello.response?.type == "Response")
            let event = try #require(record.endpoints.first { $0.name == "Say.Event" })
            #expect(event.response == nil)
            #expect(event.request?.values == [])
            #expect(event.metadata == ["subscriber": "true", "topic": "events"])

            let listed = try await registry.listServices().filter { $0.name == name }
            #expect(listed.map(\.version) == ["latest"])
            #expect(listed.first?.nodes.count == 2)
        }

        @Test func recordsWrittenHereHaveGoMicroShape() async throws {
            let registry = try sharedRegistry()
            let name = uniqueName("shape")
            let service = sampleService(name: name, nodes: [sampleNode("\(name)-node1"), sampleNode("\(name)-node2", port: 8081)])
            try await registry.register(service, ttl: .seconds(30))
            defer { Task { try? await registry.deregister(service) } }

            let kvs = try await registry.rawRange(prefix: EtcdRegistry.servicePrefix(name))
            #expect(kvs.map { String(decoding: $0.key, as: UTF8.self) }.sorted() == [
                "/micro/registry/\(name)/\(name)-node1", "/micro/registry/\(name)/\(name)-node2",
            ])
            for kv in kvs {
                #expect((kv.lease?.value ?? 0) != 0, "put under a lease")
                let json = try #require(try JSONSerialization.jsonObject(with: kv.value ?? Data()) as? [String: Any])
                #expect(Set(json.keys) == ["name", "version", "metadata", "endpoints", "nodes"])
                #expect(json["name"] as? String == name)
                #expect(json["version"] as? String == "1.0.0")
                #expect(json["metadata"] as? [String: String] == ["owner": "team-a", "region": "eu"])
                let nodes = try #require(json["nodes"] as? [[String: Any]])
                try #require(nodes.count == 1, "exactly one node per key")
                #expect(Set(nodes[0].keys) == ["id", "address", "metadata"])
                #expect(String(decoding: kv.key, as: UTF8.self).hasSuffix("/" + (nodes[0]["id"] as? String ?? "?")))
                #expect((nodes[0]["address"] as? String)?.hasPrefix("127.0.0.1:") == true)
                #expect((nodes[0]["metadata"] as? [String: String])?["protocol"] == "mucp")
                let endpoints = try #require(json["endpoints"] as? [[String: Any]])
                #expect(Set(endpoints[0].keys) == ["name", "request", "response", "metadata"])
                #expect(endpoints[0]["name"] as? String == "Greeter.Hello")
                let request = try #require(endpoints[0]["request"] as? [String: Any])
                #expect(Set(request.keys) == ["name", "type", "values"])
                let field = try #require((request["values"] as? [[String: Any]])?.first)
                #expect(field["name"] as? String == "name")
                #expect(field["type"] as? String == "string")
            }
        }

        @Test func slashesInNamesBecomeDashes() async throws {
            let registry = try sharedRegistry()
            let name = uniqueName("slash")
            let service = ServiceRecord(name: "\(name)/api", nodes: [Node(id: "n/1", address: "127.0.0.1:1")])
            try await registry.register(service)
            defer { Task { try? await registry.deregister(service) } }
            #expect(EtcdRegistry.nodeKey(service: "\(name)/api", node: "n/1") == "/micro/registry/\(name)-api/n-1")
            let kvs = try await registry.rawRange(prefix: "/micro/registry/\(name)-api/")
            #expect(kvs.map { String(decoding: $0.key, as: UTF8.self) } == ["/micro/registry/\(name)-api/n-1"])
            #expect(try await registry.getService("\(name)/api").first?.name == "\(name)/api")
        }

        @Test func badValuesUnderThePrefixAreSkippedWithAWarning() async throws {
            let capture = LogCapture()
            let registry = try sharedRegistry(logger: capture.logger())
            let name = uniqueName("bad")
            defer { Task { try? await registry.rawDelete(prefix: EtcdRegistry.servicePrefix(name)) } }
            let watcher = WatchRecorder(try await registry.watch(service: name))
            defer { watcher.cancel() }
            try await registry.rawPut(EtcdRegistry.servicePrefix(name) + "garbage", "this is not json")
            try await registry.rawPut(EtcdRegistry.servicePrefix(name) + "nonode", #"{"name":"\#(name)","version":"1","nodes":[]}"#)
            try await registry.rawPut(EtcdRegistry.servicePrefix(name) + "wrongtype", #"{"name":42}"#)
            let good = sampleService(name: name, nodes: [sampleNode("\(name)-ok")])
            try await registry.register(good)

            let records = try await registry.getService(name)
            #expect(records.flatMap(\.nodes).map(\.id) == ["\(name)-ok"])
            #expect(try await registry.listServices().filter { $0.name == name }.flatMap(\.nodes).map(\.id) == ["\(name)-ok"])
            let created = try await watcher.wait { $0.action == .create && $0.service.nodes.first?.id == "\(name)-ok" }
            #expect(created != nil, "the watch goes on past bad values")
            #expect(watcher.events.count == 1, "only the good value is an event: \(watcher.events)")
            let warnings = capture.warnings.filter { $0.message.contains("not a service record") }
            #expect(warnings.contains { $0.metadata.contains("garbage") })
            #expect(warnings.contains { $0.metadata.contains("nonode") })
            #expect(warnings.contains { $0.metadata.contains("wrongtype") })
        }
    }
}
