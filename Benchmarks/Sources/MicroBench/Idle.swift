import ArgumentParser
import MicroCore

#if canImport(Glibc)
import Glibc
#endif

/// `idle`: opens many connections to a swift-micro server, one call each, prints
/// `HOLDING <n>` and keeps them open until killed.
struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold idle connections to a swift-micro server.")

    @Option(help: "the server's address, host:port")
    var address: String

    @Option(help: "connections to open")
    var connections: Int = 1000

    func run() async throws {
        MicroBench.bootstrapLogging()
        raiseFileLimit()
        let opened = try await IdleConnections.open(connections, to: address)
        emit("HOLDING \(opened.count)")
        try await Task.sleep(for: .seconds(3600))
        withExtendedLifetime(opened) {}
    }
}
