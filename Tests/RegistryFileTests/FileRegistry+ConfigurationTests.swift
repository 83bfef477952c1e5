import Foundation
import MicroCore
import MicroTesting
import Testing

@testable import RegistryFile

extension RegistryFileSuites {
    @Suite("FileRegistry configuration and plugin")
    struct FileRegistryConfigurationTests {
        @Test("the default directory follows XDG_RUNTIME_DIR, else /tmp/micro-registry-<uid>")
        func defaultDirectory() {
            #expect(FileRegistry.defaultDirectory(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], userID: 1000) == "/run/user/1000/micro/registry")
            #expect(FileRegistry.defaultDirectory(environment: ["XDG_RUNTIME_DIR": "/run/user/7/"], userID: 7) == "/run/user/7/micro/registry")
            #expect(FileRegistry.defaultDirectory(environment: [:], userID: 42) == "/tmp/micro-registry-42")
            #expect(FileRegistry.defaultDirectory(environment: ["XDG_RUNTIME_DIR": ""], userID: 42) == "/tmp/micro-registry-42")
            let environment = ProcessInfo.processInfo.environment
            let expected = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/micro/registry" }
                ?? "/tmp/micro-registry-\(getuid())"
            #expect(FileRegistry.Configuration().directory == expected)
            #expect(FileRegistry.Configuration().pollInterval == .milliseconds(50))
        }

        @Test("the registry creates its directory with mode 0700")
        func createsDirectory() async throws {
            try await TemporaryDirectory.with { temp in
                let directory = temp.path + "/deep/er/registry"
                let registry = FileRegistry.test(directory)
                var info = stat()
                #expect(stat(directory, &info) == 0)
                #expect(info.st_mode & 0o777 == 0o700)
                try await registry.register(sampleService(nodes: [sampleNode("n")]))
                #expect(exists(directory + "/greeter/n.json"))
                // Removed under a running registry: the next write makes it again.
                try FileManager.default.removeItem(atPath: temp.path + "/deep")
                try await registry.register(sampleService(nodes: [sampleNode("n")]))
                #expect(try await registry.getService("greeter").count == 1)
            }
        }

        @Test("a directory that cannot be created gives an error naming the path")
        func uncreatableDirectory() async throws {
            try await TemporaryDirectory.with { temp in
                let blocker = temp.path + "/file"
                try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
                let registry = FileRegistry.test(blocker + "/registry")
                do {
                    try await registry.register(sampleService(nodes: [sampleNode("n")]))
                    Issue.record("register succeeded under a regular file")
                } catch let error as FileRegistryError {
                    #expect(error.code == .directory)
                    #expect(error.description.contains(blocker))
                }
                let plugins = Plugins([.file])
                #expect(throws: FileRegistryError.self) {
                    _ = try plugins.makeRegistry(MicroOptions(["registry_address": blocker]))
                }
            }
        }

        @Test("the file plugin is the default registry and --registry_address names the directory")
        func plugin() async throws {
            try await TemporaryDirectory.with { temp in
                #expect(Plugin.file.kind == .registry)
                #expect(Plugin.file.name == "file")
                let plugins = Plugins([.file])
                let made = try plugins.makeRegistry(MicroOptions(["registry_address": temp.registry]))
                let registry = try #require(made as? FileRegistry)
                #expect(registry.configuration.directory == temp.registry)
                #expect(exists(temp.registry))
                let flagged = try plugins.makeRegistry(
                    MicroOptions.resolve(arguments: ["--registry", "file", "--registry_address", temp.path + "/b, ignored"], environment: [:])
                )
                #expect((flagged as? FileRegistry)?.configuration.directory == temp.path + "/b")
            }
        }
    }
}
