public import MicroCore

/// A service record that uses every field (version, metadata, two endpoints with
/// request and response values and metadata), for tests of how a backend stores and
/// returns records.
///
/// - Parameters:
///   - name: the service name; pass ``uniqueName(_:)`` when tests share a store.
///   - version: the version.
///   - nodes: the nodes.
public func sampleService(name: String = "greeter", version: String = "1.0.0", nodes: [Node]) -> ServiceRecord {
    ServiceRecord(
        name: name,
        version: version,
        metadata: ["owner": "team-a", "region": "eu"],
        endpoints: [
            Endpoint(
                name: "Greeter.Hello",
                request: EndpointValue(name: "HelloRequest", type: "HelloRequest", values: [EndpointValue(name: "name", type: "string")]),
                response: EndpointValue(name: "HelloResponse", type: "HelloResponse", values: [EndpointValue(name: "msg", type: "string")]),
                metadata: ["stream": "false"]
            ),
            Endpoint(name: "Greeter.Ping"),
        ],
        nodes: nodes
    )
}
