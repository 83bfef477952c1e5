import MicroCore
import MicroTesting
import Testing

@testable import RegistryEtcd

extension RegistryEtcdSuites {
    /// The shared registry conformance suite against the etcd `scripts/test` started;
    /// each call of the factory is a new client, as separate processes would be.
    @Suite struct EtcdRegistryConformanceTests {
        @Test(arguments: RegistryConformance.cases)
        func registryConformance(_ check: RegistryConformance.Case) async throws {
            let endpoint = try EtcdEndpoint(parsing: sharedEtcdAddress())
            try await check.run({ try EtcdRegistry(configuration: .init(endpoints: [endpoint])) }, options: RegistryConformance.Options())
        }
    }
}
