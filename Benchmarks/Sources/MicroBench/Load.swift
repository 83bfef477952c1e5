import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Micro
import MicroCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `load KIND`: calls a running server with closed-loop workers and prints one JSON line
/// of results.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load an echo server (started by the driver).")

    @Argument(help: "raw, micro, micro-bytes, grpc or broker")
    var kind: BenchKind

    @Option(help: "the server's address, host:port (swift-micro and the broker find it in the registry)")
    var address: String

    @Option(help: "the server's process id, for its CPU time; repeated for several (a broker's queue members)")
    var serverPID: [Int32]

    @Option(help: "broker: the topic to publish to")
    var topic: String = "bench.events"

    @Option(help: "broker: the subscribers in the queue group to wait for before publishing")
    var members: Int = 1

    @Option(help: "concurrent calls")
    var concurrency: Int = 16

    @Option(help: "request (and response) payload in bytes")
    var payload: Int = 64

    @Option(help: "seconds of warm-up")
    var warmup: Double = 1

    @Option(help: "seconds measured")
    var duration: Double = 5

    @Option(help: "connections of the raw echo client (swift-micro's pool keeps 2 per node)")
    var rawConnections: Int = 2

    func run() async throws {
        MicroBench.bootstrapLogging()
        raiseFileLimit()
        let generator = LoadGenerator(
            concurrency: concurrency, warmup: .milliseconds(Int(warmup * 1000)),
            window: .milliseconds(Int(duration * 1000)), serverPIDs: serverPID
        )
        let (host, port) = try split(address)
        let result: LoadResult
        switch kind {
        case .raw:
            let client = try await RawEcho.Client.connect(host: host, port: port, connections: rawConnections)
            let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: self.payload)
            result = await generator.run(kind: kind.rawValue, payload: self.payload) { worker in
                let answer = try await client.call(payload, worker: worker)
                guard answer.readableBytes == payload.readableBytes else { throw BenchError("raw echo: short answer") }
            }
            for channel in client.channels { try? await channel.close() }
        case .micro:
            let runtime = try MicroEcho.runtime()
            let request = MicroEcho.Message(data: String(repeating: "x", count: payload))
            result = await generator.run(kind: kind.rawValue, payload: payload) { _ in
                let answer = try await runtime.client.call(
                    MicroEcho.service, MicroEcho.jsonEndpoint, request: request, responseType: MicroEcho.Message.self
                )
                guard answer.data.utf8.count == request.data.utf8.count else { throw BenchError("micro: short answer") }
            }
            await runtime.client.close()
        case .microBytes:
            let runtime = try MicroEcho.runtime()
            let request = ByteBuffer(repeating: UInt8(ascii: "x"), count: payload)
            result = await generator.run(kind: kind.rawValue, payload: payload) { _ in
                let answer = try await runtime.client.call(
                    MicroEcho.service, MicroEcho.bytesEndpoint, request: request, responseType: ByteBuffer.self
                )
                guard answer.readableBytes == request.readableBytes else { throw BenchError("micro-bytes: short answer") }
            }
            await runtime.client.close()
        case .grpc:
            let request = [UInt8](repeating: UInt8(ascii: "x"), count: payload)
            result = try await GRPCEcho.withClient(host: host, port: port) { client in
                await generator.run(kind: kind.rawValue, payload: payload) { _ in
                    let answer = try await GRPCEcho.call(client, request)
                    guard answer.count == request.count else { throw BenchError("grpc: short answer") }
                }
            }
        case .broker:
            result = try await BrokerBench.publish(topic: topic, members: members, payload: payload, generator: generator)
        }
        let json = try JSONEncoder().encode(result)
        emit(String(decoding: json, as: UTF8.self))
    }
}

/// `host:port` → (host, port).
func split(_ address: String) throws -> (String, Int) {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
        throw BenchError("address \(address) is not host:port")
    }
    return (String(address[..<colon]), port)
}
