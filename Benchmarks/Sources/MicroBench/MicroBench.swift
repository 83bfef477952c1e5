import ArgumentParser
import Dispatch
import Logging

/// The entry point: runs the command from a task while the main thread waits.
///
/// Not an `async` main: that ends the main thread in `dispatch_main`, which valgrind
/// 3.19 (used to profile with callgrind) crashes on.
@main
enum Entry {
    static func main() {
        let done = DispatchSemaphore(value: 0)
        // Detached: `main` is on the main actor, whose thread waits here.
        Task.detached {
            await MicroBench.main()
            done.signal()
        }
        done.wait()
    }
}

/// The benchmark driver and its server and client subcommands.
///
/// `micro-bench run` (the default) starts, for each system, a server process and then one
/// client process per concurrency and payload, all from this executable, and prints a
/// markdown table.
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
