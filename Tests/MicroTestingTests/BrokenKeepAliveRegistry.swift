import MicroCore
import Synchronization

/// Wrong on purpose: the TTL keep-alive breaks after the first renewal. A later
/// register with a TTL of a node that is still visible succeeds without extending its
/// TTL (as a lease renewal that silently fails would), so the node expires and comes
/// back only with the next register: it is visible right after every register, and
/// missing in between.
final class BrokenKeepAliveRegistry: Registry {
    let base: any Registry
    /// Node id → how many times it was registered with a TTL.
    private let registrations = Mutex<[String: Int]>([:])

    init(_ base: any Registry) { self.base = base }

    func register(_ service: ServiceRecord, ttl: Duration?) async throws {
        guard ttl != nil else { return try await base.register(service, ttl: ttl) }
        let live = Set(try await base.getService(service.name).flatMap(\.nodes).map(\.id))
        var forwarded = service
        forwarded.nodes = service.nodes.filter { node in
            let count = registrations.withLock { counts -> Int in
                counts[node.id, default: 0] += 1
                return counts[node.id]!
            }
            // The first register and the first renewal work; later renewals of a live node do nothing.
            return count <= 2 || !live.contains(node.id)
        }
        if !forwarded.nodes.isEmpty { try await base.register(forwarded, ttl: ttl) }
    }

    func deregister(_ service: ServiceRecord) async throws { try await base.deregister(service) }
    func getService(_ name: String) async throws -> [ServiceRecord] { try await base.getService(name) }
    func listServices() async throws -> [ServiceRecord] { try await base.listServices() }
    func watch(service: String?) async throws -> RegistryWatch { try await base.watch(service: service) }
}
