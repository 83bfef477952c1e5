import MicroCore

/// Publishes without a broker: finds the nodes that subscribe to a topic through the
/// registry (subscriber endpoints carry `topic`, `subscriber` and `queue` metadata) and
/// sends each the event over the transport, as a message with `Micro-Topic`.
///
/// Every node of a subscription without a queue gets the event; for a queue group, one
/// random node of that service gets it. This is what a client uses when no broker plugin
/// is linked, so that `micro publish` reaches services in other processes with nothing
/// to install.
struct DirectPublisher: Sendable {
    let registry: any Registry

    /// The addresses that should receive an event on `topic`.
    func targets(for topic: String) async throws -> [String] {
        var names: [String] = []
        for record in try await registry.listServices() where !names.contains(record.name) {
            names.append(record.name)
        }
        var addresses: [String] = []
        for name in names {
            let records = try await registry.getService(name)
            var queues: [String: [Node]] = [:]
            for record in records {
                let subscribers = record.endpoints.filter {
                    $0.metadata["subscriber"] == "true" && $0.metadata["topic"] == topic
                }
                for subscriber in subscribers {
                    if let queue = subscriber.metadata["queue"] {
                        queues[queue, default: []] += record.nodes
                    } else {
                        addresses += record.nodes.map(\.address)
                    }
                }
            }
            for nodes in queues.values {
                if let node = nodes.randomElement() { addresses.append(node.address) }
            }
        }
        var seen = Set<String>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
