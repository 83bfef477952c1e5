import MicroCore
import MicroTesting
import Testing

@testable import RegistryFile

extension RegistryFileSuites {
    /// The shared registry conformance suite; every registry made in a case shares one
    /// directory, as separate processes on one machine would.
    @Suite struct FileRegistryConformanceTests {
        @Test(arguments: RegistryConformance.cases)
        func registryConformance(_ check: RegistryConformance.Case) async throws {
            try await TemporaryDirectory.with { directory in
                var options = RegistryConformance.Options()
                options.ttl = .seconds(1)
                options.expiryGrace = .seconds(2)
                let path = directory.registry
                try await check.run({ FileRegistry(configuration: .init(directory: path)) }, options: options)
            }
        }
    }
}
