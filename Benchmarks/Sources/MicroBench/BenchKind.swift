/// What one benchmark row measures: a server and the client that calls it.
enum BenchKind: String, CaseIterable, Sendable {
    /// The limit: a SwiftNIO echo with a 4-byte length prefix, server and client written
    /// with NIO directly.
    case raw
    /// swift-micro: a `Codable` echo over TransportTCP and CodecJSON, through `RPCClient`
    /// with the runtime's default selector (the cache selector once linked) and the file registry.
    case micro
    /// swift-micro with `ByteBuffer` in and out (CodecJSON passes it through unchanged).
    case microBytes = "micro-bytes"
    /// grpc-swift 2 over HTTP/2 (plaintext), unary, with a hand-written byte serializer.
    case grpc
    /// swift-micro's HTTP broker (`BrokerHTTP`): a publisher process publishes to a topic
    /// whose subscribers, one or more processes in one queue group, acknowledge each event;
    /// a call is one `publish`, which returns once a member acknowledged.
    case broker

    /// The name shown in the table.
    var label: String {
        switch self {
        case .raw: "raw NIO echo"
        case .micro: "swift-micro JSON"
        case .microBytes: "swift-micro bytes"
        case .grpc: "grpc-swift 2"
        case .broker: "HTTP broker"
        }
    }

    /// The name shown in the table for a row with `members` subscriber processes in the
    /// queue group (`nil` for the RPC kinds).
    func label(members: Int?) -> String {
        guard let members else { return label }
        return "\(label), \(members) queue member\(members == 1 ? "" : "s")"
    }
}
