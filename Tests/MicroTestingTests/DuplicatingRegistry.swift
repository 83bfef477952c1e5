import MicroCore

/// Wrong on purpose: every watch event (or every one with an action in `actions`) is
/// delivered twice.
final class DuplicatingRegistry: Registry {
    let base: any Registry
    let actions: Set<RegistryEvent.Action>

    init(_ base: any Registry, actions: Set<RegistryEvent.Action> = [.create, .update, .delete]) {
        self.base = base
        self.actions = actions
    }

    func register(_ service: ServiceRecord, ttl: Duration?) async throws { try await base.register(service, ttl: ttl) }
    func deregister(_ service: ServiceRecord) async throws { try await base.deregister(service) }
    func getService(_ name: String) async throws -> [ServiceRecord] { try await base.getService(name) }
    func listServices() async throws -> [ServiceRecord] { try await base.listServices() }
    func watch(service: String?) async throws -> RegistryWatch {
        let actions = actions
        return forwardedWatch(try await base.watch(service: service)) { actions.contains($0.action) ? [$0, $0] : [$0] }
    }
}
