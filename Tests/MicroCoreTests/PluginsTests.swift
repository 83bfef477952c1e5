import MicroCore
import Testing

/// A registry that stores nothing; only its identity matters here.
private struct FakeRegistry: Registry {
    let label: String
    func register(_ service: ServiceRecord, ttl: Duration?) async throws {}
    func deregister(_ service: ServiceRecord) async throws {}
    func getService(_ name: String) async throws -> [ServiceRecord] { [] }
    func listServices() async throws -> [ServiceRecord] { [] }
    func watch(service: String?) async throws -> RegistryWatch { RegistryWatch.makeStream().stream }
}

private func registryPlugin(_ name: String) -> Plugin {
    .registry(name, summary: "fake \(name)") { _ in FakeRegistry(label: name) }
}

@Suite struct PluginsTests {
    @Test func unknownNameListsLinkedPlugins() {
        let plugins = Plugins([registryPlugin("memory"), registryPlugin("etcd")])
        do {
            _ = try plugins.makeRegistry(MicroOptions(["registry": "consul"]))
            Issue.record("an unknown registry name was accepted")
        } catch let error as PluginError {
            #expect(error.kind == .registry)
            #expect(error.name == "consul")
            #expect(error.description.contains("linked registries: etcd, memory"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func choosesNamedThenDefaultThenOnly() throws {
        let plugins = Plugins([registryPlugin("file"), registryPlugin("etcd")])
        #expect((try plugins.makeRegistry(MicroOptions(["registry": "etcd"])) as? FakeRegistry)?.label == "etcd")
        #expect((try plugins.makeRegistry(MicroOptions()) as? FakeRegistry)?.label == "file")
        let only = Plugins([registryPlugin("etcd")])
        #expect((try only.makeRegistry(MicroOptions()) as? FakeRegistry)?.label == "etcd")
        let two = Plugins([registryPlugin("etcd"), registryPlugin("consul")])
        #expect(throws: PluginError.self) { try two.makeRegistry(MicroOptions()) }
        #expect(throws: PluginError.self) { try Plugins().makeRegistry(MicroOptions()) }
    }

    @Test func laterPluginReplacesEarlier() throws {
        var plugins = Plugins([registryPlugin("etcd")])
        plugins.register(.registry("etcd", summary: "second") { _ in FakeRegistry(label: "second") })
        #expect(plugins.plugins(of: .registry).map(\.summary) == ["second"])
        #expect((try plugins.makeRegistry(MicroOptions(["registry": "etcd"])) as? FakeRegistry)?.label == "second")
    }
}
