#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroCore

/// The content of one node file: the service holding exactly that node, and when the
/// node expires.
///
/// `{"service": {…ServiceRecord with one node…}, "expires": 1718000000.5}`; `expires` is
/// unix seconds, or `null` for a node without TTL.
struct NodeEnvelope: Sendable, Hashable, Codable {
    /// The service with exactly one node.
    var service: ServiceRecord
    /// Unix seconds after which the node is gone; `nil` for never.
    var expires: Double?

    private enum CodingKeys: String, CodingKey {
        case service, expires
    }

    init(service: ServiceRecord, expires: Double?) {
        self.service = service
        self.expires = expires
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        service = try container.decode(ServiceRecord.self, forKey: .service)
        expires = try container.decodeIfPresent(Double.self, forKey: .expires)
    }

    /// Writes `"expires": null` explicitly for a node without TTL.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(service, forKey: .service)
        if let expires {
            try container.encode(expires, forKey: .expires)
        } else {
            try container.encodeNil(forKey: .expires)
        }
    }

    /// Whether the node is still visible at `now` (unix seconds).
    func isLive(at now: Double) -> Bool {
        guard let expires else { return true }
        return expires > now
    }

    /// The node this envelope holds.
    var node: Node? { service.nodes.first }

    /// The current time in unix seconds.
    static func now() -> Double {
        Date().timeIntervalSince1970
    }
}
