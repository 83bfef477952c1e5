import ArgumentParser
import Logging

/// The benchmark driver and its server and client subcommands.
///
/// `micro-bench run` (the default) starts, for each system, a server process and then one
/// client process per concurrency and payload, all from this executable, and prints a
/// markdown table.
@main
struct MicroBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro-bench",
        abstract: "swift-micro against a raw SwiftNIO echo and grpc-swift 2, on loopback.",
        subcommands: [Run.self, Serve.self, Load.self, Idle.self],
        defaultSubcommand: Run.self
    )

    /// Logs to standard error, warnings and worse: standard output carries the results.
    static func bootstrapLogging() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }
}

extension BenchKind: ExpressibleByArgument {}
