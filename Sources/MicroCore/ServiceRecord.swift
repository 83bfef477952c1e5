/// A service as the registry knows it: go-micro's `registry.Service`.
///
/// The JSON form uses go-micro's lower-case keys and accepts `null` wherever go-micro
/// writes it, so records are shared with go-micro services through the same store.
/// ``Registry/getService(_:)`` returns one record per version, with that version's nodes
/// merged.
public struct ServiceRecord: Sendable, Hashable, Codable {
    /// The service name, such as `greeter`.
    public var name: String
    /// The version, such as `latest` or `1.2.0`.
    public var version: String
    /// Service-level metadata.
    public var metadata: [String: String]
    /// The endpoints the service answers.
    public var endpoints: [Endpoint]
    /// The running instances.
    public var nodes: [Node]

    /// Creates a record.
    public init(
        name: String,
        version: String = "latest",
        metadata: [String: String] = [:],
        endpoints: [Endpoint] = [],
        nodes: [Node] = []
    ) {
        self.name = name
        self.version = version
        self.metadata = metadata
        self.endpoints = endpoints
        self.nodes = nodes
    }

    private enum CodingKeys: String, CodingKey {
        case name, version, metadata, endpoints, nodes
    }

    /// Decodes go-micro's JSON: absent and `null` fields become empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decodeIfPresent(String.self, forKey: .version) ?? ""
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        nodes = try container.decodeIfPresent([Node].self, forKey: .nodes) ?? []
    }
}

/// One running instance of a service: go-micro's `registry.Node`.
public struct Node: Sendable, Hashable, Codable {
    /// The node id, `<service>-<uuid>` for a server.
    public var id: String
    /// Where to reach it, `host:port` (`[v6]:port` for IPv6).
    public var address: String
    /// Node metadata; a server sets `protocol`, `transport`, `broker`, `registry`, `server`.
    public var metadata: [String: String]

    /// Creates a node.
    public init(id: String, address: String, metadata: [String: String] = [:]) {
        self.id = id
        self.address = address
        self.metadata = metadata
    }

    private enum CodingKeys: String, CodingKey {
        case id, address, metadata
    }

    /// Decodes go-micro's JSON: absent and `null` fields become empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        address = try container.decodeIfPresent(String.self, forKey: .address) ?? ""
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
    }
}

/// An endpoint a service answers: go-micro's `registry.Endpoint`.
public struct Endpoint: Sendable, Hashable, Codable {
    /// `Handler.Method`, such as `Greeter.Hello`.
    public var name: String
    /// The request's shape, if known.
    public var request: EndpointValue?
    /// The response's shape, if known.
    public var response: EndpointValue?
    /// Endpoint metadata: `{"stream":"true"}` for streams, `{"topic":…,"subscriber":"true"}`
    /// for subscribers, as go-micro marks them.
    public var metadata: [String: String]

    /// Creates an endpoint.
    public init(
        name: String,
        request: EndpointValue? = nil,
        response: EndpointValue? = nil,
        metadata: [String: String] = [:]
    ) {
        self.name = name
        self.request = request
        self.response = response
        self.metadata = metadata
    }

    private enum CodingKeys: String, CodingKey {
        case name, request, response, metadata
    }

    /// Decodes go-micro's JSON: absent and `null` fields become empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        request = try container.decodeIfPresent(EndpointValue.self, forKey: .request)
        response = try container.decodeIfPresent(EndpointValue.self, forKey: .response)
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
    }

    /// Encodes every key, writing `null` for an unknown request or response as Go does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(request, forKey: .request)
        try container.encode(response, forKey: .response)
        try container.encode(metadata, forKey: .metadata)
    }
}

/// The shape of a request or response: go-micro's `registry.Value`.
///
/// `name` is the field name (the type name at the top), `type` the type name, and
/// `values` the fields, to a depth of three as go-micro describes them.
public struct EndpointValue: Sendable, Hashable, Codable {
    /// The field name, or the type name for the top value.
    public var name: String
    /// The type name, such as `string`, `int64` or `HelloRequest`.
    public var type: String
    /// The fields; empty for a scalar.
    public var values: [EndpointValue]

    /// Creates a value.
    public init(name: String, type: String, values: [EndpointValue] = []) {
        self.name = name
        self.type = type
        self.values = values
    }

    private enum CodingKeys: String, CodingKey {
        case name, type, values
    }

    /// Decodes go-micro's JSON, where a leaf has `"values":null`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        values = try container.decodeIfPresent([EndpointValue].self, forKey: .values) ?? []
    }
}
