import MicroCore
import MicroTesting
import Testing
import TransportTCP

/// The shared transport conformance suite, over IPv4 and IPv6 loopback.
@Test(arguments: TransportConformance.cases)
func tcpTransportConformance(_ check: TransportConformance.Case) async throws {
    let transport = TCPTransport()
    try await check.run({ transport }, listenAddress: "127.0.0.1:0", options: .init())
}

@Test(arguments: TransportConformance.cases)
func tcpTransportConformanceOverIPv6(_ check: TransportConformance.Case) async throws {
    let transport = TCPTransport()
    try await check.run({ transport }, listenAddress: "[::1]:0", options: .init())
}
