import MicroCore

/// Wrong on purpose: a watch reports `create` where the store reports `update`.
final class CreateForUpdateRegistry: Registry {
    let base: any Registry
    init(_ base: any Registry) { self.base = base }

    func register(_ service: ServiceRecord, ttl: Duration?) async throws { try await base.register(service, ttl: ttl) }
    func deregister(_ service: ServiceRecord) async throws { try await base.deregister(service) }
    func getService(_ name: String) async throws -> [ServiceRecord] { try await base.getService(name) }
    func listServices() async throws -> [ServiceRecord] { try await base.listServices() }
    func watch(service: String?) async throws -> RegistryWatch {
        forwardedWatch(try await base.watch(service: service)) { event in
            [RegistryEvent(action: event.action == .update ? .create : event.action, service: event.service)]
        }
    }
}
