import Foundation
import MicroCore
import MicroTesting
import Testing

@testable import RegistryEtcd

extension RegistryEtcdSuites {
    /// Watches across etcd restarts and crashes, on a private etcd.
    @Suite struct EtcdRegistryWatchTests {
        @Test func watchResumesAfterAnEtcdRestartWithoutLosingOrRepeatingEvents() async throws {
            try await EtcdServer.with { server in
                let capture = LogCapture()
                // The watcher waits 5 s before reconnecting, so the registration below
                // (about 2 s after the kill) lands while its stream is broken.
                let watching = try EtcdRegistry(configuration: .init(
                    endpoints: [server.endpoint], watchBackoff: .seconds(5), watchMaximumBackoff: .seconds(5), logger: capture.logger()
                ))
                let writer = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], timeout: .seconds(1)))
                let name = uniqueName("resume")
                let watcher = WatchRecorder(try await watching.watch(service: name))
                defer { watcher.cancel() }

                let before = sampleService(name: name, nodes: [sampleNode("\(name)-before")])
                try await writer.register(before)
                #expect(try await watcher.wait { $0.service.nodes.first?.id == "\(name)-before" } != nil)

                await server.kill9()
                let killedAt = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(300))
                // Register during the gap, retrying until etcd is back. An attempt that
                // timed out may still have landed, so each retry first looks: a second
                // put would be a genuine second change (an update), not what this tests.
                let during = sampleService(name: name, nodes: [sampleNode("\(name)-during")])
                let retrying = Task {
                    var attempts = 0
                    while true {
                        attempts += 1
                        do {
                            if attempts > 1, try await writer.getService(name).flatMap(\.nodes).contains(where: { $0.id == "\(name)-during" }) {
                                return attempts
                            }
                            try await writer.register(during)
                            return attempts
                        } catch {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                try await server.launch()
                let attempts = try await retrying.value
                #expect(attempts > 1, "the first attempts met a dead etcd")
                let registeredAt = ContinuousClock.now

                let seen = try await watcher.wait(timeout: .seconds(10)) { $0.service.nodes.first?.id == "\(name)-during" }
                #expect(seen?.event.action == .create, "the watcher saw the registration made while its stream was broken")
                let latency = ContinuousClock.now - registeredAt
                #expect(registeredAt - killedAt < .seconds(4.5), "registered before the watcher's first reconnection")
                #expect(latency > .milliseconds(300), "delivered by the resumed stream, not a live one")
                let after = sampleService(name: name, nodes: [sampleNode("\(name)-after")])
                try await writer.register(after)
                #expect(try await watcher.wait { $0.service.nodes.first?.id == "\(name)-after" } != nil)
                try await writer.deregister(before)
                #expect(try await watcher.wait { $0.action == .delete && $0.service.nodes.first?.id == "\(name)-before" } != nil)
                try await Task.sleep(for: .milliseconds(300))

                let events = watcher.events.map { "\($0.action.rawValue) \($0.service.nodes.map(\.id).joined())" }
                #expect(events == [
                    "create \(name)-before", "create \(name)-during", "create \(name)-after", "delete \(name)-before",
                ], "every change once, in order")
                #expect(capture.warnings.contains { $0.message.contains("reconnecting") }, "the break was logged")
                print("watch resume: registered \(registeredAt - killedAt) after the kill (\(attempts) attempts); the resumed watcher delivered it \(latency) later")
            }
        }

        @Test func leaseExpiryAfterAnEtcdRestartIsADelete() async throws {
            try await EtcdServer.with { server in
                let registry = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], watchBackoff: .milliseconds(100)))
                let name = uniqueName("expire")
                let watcher = WatchRecorder(try await registry.watch(service: name))
                defer { watcher.cancel() }
                try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-n1")]), ttl: .seconds(2))
                #expect(try await watcher.wait { $0.action == .create } != nil)
                try await server.restart()
                // Nobody renews: the lease (refreshed to its full TTL on restart) expires.
                let deleted = try await watcher.wait(timeout: .seconds(8)) { $0.action == .delete }
                #expect(deleted?.event.service.nodes.first?.id == "\(name)-n1", "the delete carries the node from the previous value")
                #expect(deleted?.event.service.nodes.first?.address == "127.0.0.1:8080")
                #expect(try await registry.getService(name).isEmpty)
            }
        }

        @Test func userAndPasswordAuthentication() async throws {
            // Tokens live 1 s, so the registry must authenticate again on its own.
            try await EtcdServer.with(extraArguments: ["--auth-token-ttl", "1"]) { server in
                let admin = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint]))
                _ = try await admin.rawPost("/v3/auth/user/add", ["name": "root", "password": "rootpw"])
                _ = try await admin.rawPost("/v3/auth/role/add", ["name": "root"])
                _ = try await admin.rawPost("/v3/auth/user/grant", ["user": "root", "role": "root"])
                _ = try await admin.rawPost("/v3/auth/enable", [:])

                let name = uniqueName("auth")
                let service = sampleService(name: name, nodes: [sampleNode("\(name)-n1")])
                let anonymous = try #require(await #expect(throws: MicroError.self) { try await admin.register(service) })
                #expect(anonymous.detail.contains("user name is empty") || anonymous.detail.contains("token"), "\(anonymous.detail)")

                let wrong = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], username: "root", password: "nope"))
                let refused = try #require(await #expect(throws: MicroError.self) { try await wrong.getService(name) })
                #expect(refused.detail.contains("authentication failed"), "\(refused.detail)")

                let options = MicroOptions(["registry_address": server.address])
                let configuration = try EtcdRegistry.Configuration(options: options, environment: ["ETCD_USERNAME": "root", "ETCD_PASSWORD": "rootpw"])
                let registry = try EtcdRegistry(configuration: configuration)
                try await registry.register(service, ttl: .seconds(5))
                let watcher = WatchRecorder(try await registry.watch(service: name))
                defer { watcher.cancel() }
                #expect(try await registry.getService(name).flatMap(\.nodes).map(\.id) == ["\(name)-n1"])
                try await Task.sleep(for: .seconds(3))  // the token expired
                try await registry.register(service, ttl: .seconds(5))
                try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-n2")]))
                #expect(try await registry.getService(name).flatMap(\.nodes).map(\.id) == ["\(name)-n1", "\(name)-n2"])
                #expect(try await watcher.wait { $0.service.nodes.first?.id == "\(name)-n2" } != nil, "the watch works with a token")
            }
        }
    }
}

extension RegistryEtcdSuites.EtcdRegistryWatchTests {
    @Test func aCompactedStartRevisionIsLoggedAndTheWatchGoesOn() async throws {
        try await EtcdServer.with { server in
            let capture = LogCapture()
            let registry = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], logger: capture.logger()))
            let name = uniqueName("compact")
            let first = sampleService(name: name, nodes: [sampleNode("\(name)-a")])
            try await registry.register(first)
            try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-b")]))
            try await registry.deregister(first)
            let revision = try await registry.rawRevision()
            _ = try await registry.rawPost("/v3/kv/compaction", ["revision": "\(revision)"])

            // A watch resuming from revision 2, which etcd no longer has.
            let watcher = WatchRecorder(registry.watch(prefix: EtcdRegistry.servicePrefix(name), from: 2))
            defer { watcher.cancel() }
            try await waitFor("the compaction to be logged", timeout: .seconds(5)) {
                capture.records.contains { $0.level == .error && $0.message.contains("compacted") }
            }
            try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-c")]))
            #expect(try await watcher.wait { $0.action == .create && $0.service.nodes.first?.id == "\(name)-c" } != nil)
            #expect(!watcher.events.contains { $0.service.nodes.first?.id == "\(name)-b" }, "revisions before the compaction are gone")
        }
    }

    @Test func httpsEndpointsWithACAFileOrInsecure() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cert = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a certificate")

        try await EtcdServer.with(certificate: (cert, key)) { server in
            #expect(server.endpoint.url.hasPrefix("https://"))
            let name = uniqueName("tls")
            let verified = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], tls: .init(caFile: cert)))
            let watcher = WatchRecorder(try await verified.watch(service: name))
            defer { watcher.cancel() }
            try await verified.register(sampleService(name: name, nodes: [sampleNode("\(name)-n1")]), ttl: .seconds(5))
            #expect(try await verified.getService(name).flatMap(\.nodes).map(\.id) == ["\(name)-n1"])
            #expect(try await watcher.wait { $0.action == .create } != nil)

            let options = MicroOptions(["registry_address": server.endpoint.url, "etcd_tls_insecure": "true"])
            let insecure = try EtcdRegistry(configuration: .init(options: options, environment: [:]))
            #expect(try await insecure.getService(name).flatMap(\.nodes).count == 1)

            // The system roots do not trust a self-signed certificate.
            let untrusting = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], timeout: .seconds(2)))
            let error = try await #require(throws: MicroError.self) { try await untrusting.getService(name) }
            #expect(error.code == 503)
            #expect(error.detail.contains(server.endpoint.url), "\(error.detail)")
        }
    }
}

extension RegistryEtcdSuites.EtcdRegistryWatchTests {
    @Test func aWatchFollowsAnEtcdWhoseDataWasWiped() async throws {
        try await EtcdServer.with { server in
            let capture = LogCapture()
            let registry = try EtcdRegistry(configuration: .init(endpoints: [server.endpoint], logger: capture.logger()))
            let name = uniqueName("wiped")
            let watcher = WatchRecorder(try await registry.watch(service: name))
            defer { watcher.cancel() }
            for index in 0..<5 {
                try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-old\(index)")]))
            }
            #expect(try await watcher.wait { $0.service.nodes.first?.id == "\(name)-old4" } != nil)

            // A new, empty etcd on the same address: its revisions start again at 1.
            await server.kill9()
            try FileManager.default.removeItem(atPath: server.directory + "/data")
            try await server.launch()
            try await registry.register(sampleService(name: name, nodes: [sampleNode("\(name)-new")]))
            #expect(try await watcher.wait(timeout: .seconds(8)) { $0.service.nodes.first?.id == "\(name)-new" } != nil)
            #expect(capture.records.contains { $0.level == .error && $0.message.contains("revision went back") })
        }
    }
}
