import MicroCore
import MicroMemory
import MicroTesting
import Testing

/// Short timings so the TTL cases stay fast against the in-process registry; the TTL
/// leaves the keep-alive case's re-registers (every quarter of it) room to be late on a
/// loaded machine.
private var fastRegistryOptions: RegistryConformance.Options {
    var options = RegistryConformance.Options()
    options.ttl = .seconds(1)
    options.expiryGrace = .seconds(1)
    options.watchTimeout = .seconds(2)
    return options
}

@Test(arguments: RegistryConformance.cases)
func registryConformance(_ check: RegistryConformance.Case) async throws {
    let registry = MemoryRegistry()
    try await check.run({ registry }, options: fastRegistryOptions)
}

@Test(arguments: TransportConformance.cases)
func transportConformance(_ check: TransportConformance.Case) async throws {
    let transport = MemoryTransport()
    try await check.run({ transport }, listenAddress: "memory:0")
}

@Test(arguments: BrokerConformance.cases)
func brokerConformance(_ check: BrokerConformance.Case) async throws {
    let broker = MemoryBroker()
    try await check.run({ broker })
}
