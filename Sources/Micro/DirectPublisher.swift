import MicroCore

/// Publishes without a broker: finds the nodes that subscribe to a topic in the registry
/// cache (subscriber endpoints carry `topic`, `subscriber` and `queue` metadata) and sends
/// each the event over the transport, as a message with `Micro-Topic`.
///
/// Every node of a broadcast subscription gets the event; each queue group (a queue name,
/// across every service that subscribes with it, as go-micro groups its broker's
/// subscribers) gets it once, at a random member first and at the next when that one
/// fails. A warm cache answers without a registry request. This is what a client uses
/// when no broker plugin is linked, so that `micro publish` reaches services in other
/// processes with nothing to install.
struct DirectPublisher: Sendable {
    let cache: RegistryCache

    /// Where an event on a topic goes.
    struct Targets: Sendable, Equatable {
        /// The addresses of the broadcast subscribers; each gets the event.
        var broadcast: [String] = []
        /// Each queue group's member addresses, in the order to try them.
        var groups: [Group] = []

        /// One queue group.
        struct Group: Sendable, Equatable {
            var queue: String
            var members: [String]
        }
    }

    /// The subscribers of `topic`, with each group's members shuffled.
    func targets(for topic: String) async throws -> Targets {
        var broadcast: [String] = []
        var groups: [String: [String]] = [:]
        for name in try await cache.serviceNames() {
            for record in try await cache.records(of: name) {
                let addresses = record.nodes.map(\.address)
                for endpoint in record.endpoints
                where endpoint.metadata["subscriber"] == "true" && endpoint.metadata["topic"] == topic {
                    if let queue = endpoint.metadata["queue"], !queue.isEmpty {
                        groups[queue, default: []] += addresses
                    } else {
                        broadcast += addresses
                    }
                }
            }
        }
        return Targets(
            broadcast: DirectPublisher.unique(broadcast),
            groups: groups.sorted { $0.key < $1.key }.map { Targets.Group(queue: $0.key, members: DirectPublisher.unique($0.value).shuffled()) }
        )
    }

    private static func unique(_ addresses: [String]) -> [String] {
        var seen = Set<String>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
