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

/// `Plugins+CommandLine`: flags from the linked plugins' keys, and help from them.
@Suite struct PluginsCommandLineTests {
    private let key = OptionKey("fake_token", default: "t0", help: "fake registry token")

    private var plugins: Plugins {
        Plugins([registryPlugin("file"), .registry("etcd", summary: "fake etcd", options: [key]) { _ in FakeRegistry(label: "etcd") }])
    }

    @Test func aLinkedPluginsKeyIsAFlagAndAnythingElseIsRejected() throws {
        let options = try plugins.resolveOptions(arguments: ["--fake_token", "abc", "--selector_ttl", "1m"], environment: [:])
        #expect(options["fake_token"] == "abc")
        #expect(options["selector_ttl"] == "1m", "every runtime's registry cache reads --selector_ttl")
        #expect(throws: UnknownFlagError(flag: "fake_tokn", suggestion: "fake_token")) {
            try plugins.resolveOptions(arguments: ["--fake_tokn", "abc"], environment: [:])
        }
        #expect(try plugins.resolveOptions(arguments: ["--port", "80"], environment: [:], allowing: ["port"])["fake_token"] == "t0")
    }

    @Test func helpNamesTheLinkedPluginsAndTheDefaultOne() {
        do {
            _ = try plugins.resolveOptions(arguments: ["--help"], environment: [:], program: "svc")
            Issue.record("--help resolved options")
        } catch let request as CommandLineRequest {
            #expect(request.kind == .help)
            #expect(request.text == plugins.help(program: "svc"))
            #expect(request.text.contains("registry plugin: etcd, file (default: file) [$MICRO_REGISTRY]"))
            #expect(request.text.contains("fake registry token (default: t0) [$MICRO_FAKE_TOKEN]"))
            #expect(request.text.contains("[$MICRO_SELECTOR_TTL]"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(plugins.describedOptionKeys.map(\.name) == plugins.optionKeys.map(\.name))
    }
}
