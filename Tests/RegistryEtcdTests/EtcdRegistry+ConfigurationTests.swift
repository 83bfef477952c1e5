import Foundation
import MicroCore
import Testing

@testable import RegistryEtcd

/// Addresses and options; no etcd needed.
@Suite struct EtcdRegistryConfigurationTests {
    @Test func addressesTakeHostPortOrURLs() throws {
        #expect(try EtcdEndpoint(parsing: "10.0.0.1").url == "http://10.0.0.1:2379")
        #expect(try EtcdEndpoint(parsing: "10.0.0.1:3379").url == "http://10.0.0.1:3379")
        #expect(try EtcdEndpoint(parsing: "https://etcd.example:2380/").url == "https://etcd.example:2380")
        #expect(try EtcdEndpoint(parsing: "http://etcd.example").port == 2379)
        #expect(try EtcdEndpoint(parsing: "[::1]:4000").url == "http://[::1]:4000")
        #expect(try EtcdEndpoint(parsing: "::1").url == "http://[::1]:2379")
        #expect(try EtcdEndpoint.list("a:1, b ,https://c:3").map(\.url) == ["http://a:1", "http://b:2379", "https://c:3"])
        #expect(throws: OptionError.self) { try EtcdEndpoint(parsing: "ftp://x:1") }
        #expect(throws: OptionError.self) { try EtcdEndpoint(parsing: "x:99999") }
        #expect(throws: OptionError.self) { try EtcdEndpoint(parsing: "x:y") }
        #expect(throws: OptionError.self) { try EtcdEndpoint(parsing: "http://x:1/v3") }
        #expect(throws: OptionError.self) { try EtcdEndpoint(parsing: "x:0") }
    }

    @Test func addressErrorsSayWhichFormIsExpected() {
        do {
            _ = try EtcdEndpoint(parsing: "etcd:port")
            Issue.record("accepted etcd:port")
        } catch let error as OptionError {
            #expect(error.key == "registry_address")
            #expect(error.message.contains("'etcd:port'"), "\(error.message)")
            #expect(error.message.contains("the port 'port' is not a number"), "\(error.message)")
            #expect(error.message.contains("expected host or host:port (port 2379 when left out)"), "\(error.message)")
            #expect(error.message.contains("http(s)://host:port"), "\(error.message)")
        } catch {
            Issue.record("threw \(error), not an OptionError")
        }
    }

    @Test func optionsAndEnvironment() throws {
        let defaults = try EtcdRegistry.Configuration(options: MicroOptions(), environment: [:])
        #expect(defaults.endpoints.map(\.url) == ["http://127.0.0.1:2379"])
        #expect(defaults.timeout == .seconds(5))
        #expect(defaults.username == nil)

        let options = MicroOptions([
            "registry_address": "127.0.0.1:1,127.0.0.1:2", "etcd_username": "alice", "etcd_password": "pw",
            "etcd_timeout": "1500ms", "etcd_tls_insecure": "true", "etcd_tls_ca_file": "/tmp/ca.pem",
        ])
        let configured = try EtcdRegistry.Configuration(options: options, environment: ["ETCD_USERNAME": "bob", "ETCD_PASSWORD": "x"])
        #expect(configured.endpoints.map(\.port) == [1, 2])
        #expect(configured.username == "alice")
        #expect(configured.password == "pw")
        #expect(configured.timeout == .milliseconds(1500))
        #expect(configured.tls == EtcdRegistry.TLS(caFile: "/tmp/ca.pem", insecureSkipVerify: true))

        let fromEnvironment = try EtcdRegistry.Configuration(options: MicroOptions(), environment: ["ETCD_USERNAME": "bob", "ETCD_PASSWORD": "x"])
        #expect(fromEnvironment.username == "bob")
        #expect(fromEnvironment.password == "x")

        #expect(throws: OptionError.self) { try EtcdRegistry.Configuration(options: MicroOptions(["etcd_timeout": "soon"]), environment: [:]) }
        #expect(throws: OptionError.self) { try EtcdRegistry.Configuration(options: MicroOptions(["etcd_tls_insecure": "maybe"]), environment: [:]) }
        #expect(throws: OptionError.self) { try EtcdRegistry.Configuration(options: MicroOptions(["registry_address": "ftp://x"]), environment: [:]) }
    }

    @Test func thePluginIsNamedEtcdAndListsItsKeys() throws {
        let plugins = Plugins([.etcd])
        let options = try MicroOptions.resolve(arguments: ["--registry", "etcd", "--etcd_username", "u"], environment: [:], keys: plugins.optionKeys)
        #expect(options["etcd_username"] == "u")
        #expect(try plugins.plugin(.registry, options: options).name == "etcd")
        #expect(try plugins.makeRegistry(options) is EtcdRegistry)
        #expect(plugins.optionKeys.map(\.name).contains("etcd_timeout"))
    }

    @Test func leaseSecondsRoundUp() {
        #expect(EtcdRegistry.leaseSeconds(.milliseconds(10)) == 1)
        #expect(EtcdRegistry.leaseSeconds(.seconds(2)) == 2)
        #expect(EtcdRegistry.leaseSeconds(.milliseconds(2500)) == 3)
        #expect(EtcdWire.prefixEnd(Data("/a/".utf8)) == Data("/a0".utf8))
    }
}
