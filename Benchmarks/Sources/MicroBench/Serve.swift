import ArgumentParser
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `serve KIND`: runs one echo server (for `broker`, one subscriber) and prints
/// `READY <address>` once it accepts calls.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run an echo server (started by the driver).")

    @Argument(help: "raw, micro, micro-bytes, grpc or broker")
    var kind: BenchKind

    @Option(help: "broker: the topic to subscribe to (in queue group \"\(BrokerBench.queue)\")")
    var topic: String = "bench.events"

    func run() async throws {
        MicroBench.bootstrapLogging()
        raiseFileLimit()
        switch kind {
        case .raw:
            let channel = try await RawEcho.serve()
            announce("127.0.0.1:\(channel.localAddress?.port ?? 0)")
            try await channel.closeFuture.get()
        case .micro, .microBytes:
            try await MicroEcho.serve { announce($0) }
        case .grpc:
            try await GRPCEcho.serve { announce("127.0.0.1:\($0)") }
        case .broker:
            try await BrokerBench.subscribe(topic: topic) { announce($0) }
        }
    }
}

/// Tells the driver where the server listens.
func announce(_ address: String) {
    emit("READY \(address)")
}

/// Writes a line to standard output at once (the driver reads it through a pipe).
func emit(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(1, bytes.baseAddress, bytes.count) }
}

/// Lets a process hold a few thousand sockets.
func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = min(limit.rlim_max, 65_536)
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
