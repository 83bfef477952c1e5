import ArgumentParser
import Foundation
import Synchronization

/// `run` (the default): every system, concurrency and payload, one after another, then a
/// markdown table with each row's ratio to the raw echo. With `--rounds`, the whole set
/// runs several times and each row reports its median, which steadies the ratios on a
/// noisy machine.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the whole benchmark and print a markdown table.")

    @Option(help: "seconds of warm-up before each measurement")
    var warmup: Double = 1

    @Option(help: "seconds measured for each row")
    var duration: Double = 5

    @Flag(help: "short runs (0.3 s warm-up, 1 s window) for a quick look")
    var quick = false

    @Option(parsing: .upToNextOption, help: "systems to run: raw, micro, micro-bytes, grpc, broker")
    var kinds: [BenchKind] = BenchKind.allCases

    @Option(parsing: .upToNextOption, help: "broker: subscriber processes in the queue group, one set of rows each")
    var queueMembers: [Int] = [1, 2]

    @Option(parsing: .upToNextOption, help: "concurrent calls")
    var concurrency: [Int] = [1, 16, 64]

    @Option(parsing: .upToNextOption, help: "payload sizes in bytes")
    var payloads: [Int] = [64, 16 * 1024]

    @Option(help: "times to run the whole set of rows; each row then reports the median of its rounds")
    var rounds: Int = 1

    @Option(help: "idle connections for the memory check (0 skips it)")
    var idleConnections: Int = 1000

    @Option(help: "also write the report to this file")
    var output: String?

    @Option(help: "a note printed under the title (what was measured)")
    var note: String?

    func run() async throws {
        let warmup = quick ? 0.3 : self.warmup
        let duration = quick ? 1 : self.duration
        let registry = FileManager.default.temporaryDirectory.appendingPathComponent("micro-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: registry) }
        let environment = ["MICRO_REGISTRY_ADDRESS": registry]

        var rounds: [[LoadResult]] = []
        for round in 1...max(1, self.rounds) {
            if self.rounds > 1 { log("round \(round) of \(self.rounds)") }
            rounds.append(try runRound(warmup: warmup, duration: duration, environment: environment))
        }

        var idle: IdleMemory?
        if idleConnections > 0 {
            log("swift-micro: \(idleConnections) idle connections")
            idle = try measureIdle(environment: environment)
        }

        let report = Report(
            rounds: rounds, idle: idle, warmup: warmup, duration: duration, note: note
        ).markdown
        print(report)
        if let output {
            try report.write(toFile: output, atomically: true, encoding: .utf8)
        }
    }

    /// Every system, payload and concurrency once (and, for the broker, each number of
    /// queue members).
    private func runRound(warmup: Double, duration: Double, environment: [String: String]) throws -> [LoadResult] {
        var results: [LoadResult] = []
        for kind in kinds {
            if kind == .broker {
                for members in queueMembers where members > 0 {
                    results += try runRows(kind, members: members, warmup: warmup, duration: duration, environment: environment)
                }
            } else {
                results += try runRows(kind, members: nil, warmup: warmup, duration: duration, environment: environment)
            }
        }
        return results
    }

    /// One system's rows: starts its server (for the broker, `members` subscriber
    /// processes in one queue group, on a topic of their own so that no earlier
    /// subscriber is found), then one load process per payload and concurrency.
    private func runRows(
        _ kind: BenchKind, members: Int?, warmup: Double, duration: Double, environment: [String: String]
    ) throws -> [LoadResult] {
        let label = kind.label(members: members)
        let extra = members == nil ? [] : ["--topic", "bench.events.\(getpid()).\(Run.nextTopic())"]
        log("\(label): starting server\((members ?? 1) > 1 ? "s" : "")")
        var servers: [ChildProcess] = []
        defer { for server in servers { server.stop() } }
        var addresses: [String] = []
        for _ in 0..<(members ?? 1) {
            let server = try ChildProcess(["serve", kind.rawValue] + extra, environment: environment)
            servers.append(server)
            addresses.append(try server.waitFor("READY "))
        }
        var results: [LoadResult] = []
        for payload in payloads {
            for concurrency in concurrency {
                log("\(label): \(concurrency) concurrent, \(payload) B")
                var arguments = [
                    "load", kind.rawValue, "--address", addresses[0],
                    "--concurrency", "\(concurrency)", "--payload", "\(payload)",
                    "--warmup", "\(warmup)", "--duration", "\(duration)",
                ]
                for server in servers { arguments += ["--server-pid", "\(server.pid)"] }
                if let members { arguments += extra + ["--members", "\(members)"] }
                let client = try ChildProcess(arguments, environment: environment)
                let line = client.readLine()
                client.wait(timeout: warmup + duration + 60)
                guard let line, let result = try? JSONDecoder().decode(LoadResult.self, from: Data(line.utf8)) else {
                    log("\(label): the load process printed no result")
                    continue
                }
                if result.errors > 0 {
                    log("\(label): \(result.errors) errors, first: \(result.firstError ?? "?")")
                }
                results.append(result)
            }
        }
        return results
    }

    /// A number for each broker topic of this run.
    private static func nextTopic() -> Int {
        topicCounter.withLock { counter in
            counter += 1
            return counter
        }
    }

    private static let topicCounter = Mutex(0)

    /// Server RSS before and after `idleConnections` connections, one call each.
    private func measureIdle(environment: [String: String]) throws -> IdleMemory {
        let server = try ChildProcess(["serve", BenchKind.microBytes.rawValue], environment: environment)
        defer { server.stop() }
        let address = try server.waitFor("READY ")
        usleep(500_000)
        let before = ProcessStats.rss(pid: server.pid) ?? 0
        let client = try ChildProcess(
            ["idle", "--address", address, "--connections", "\(idleConnections)"], environment: environment
        )
        defer { client.stop() }
        let held = Int(try client.waitFor("HOLDING ")) ?? 0
        usleep(1_000_000)
        let after = ProcessStats.rss(pid: server.pid) ?? 0
        return IdleMemory(connections: held, rssBefore: before, rssAfter: after)
    }
}

/// The server's memory with no connection and with many idle ones.
struct IdleMemory {
    var connections: Int
    var rssBefore: Int
    var rssAfter: Int
}

/// Progress on standard error.
func log(_ text: String) {
    FileHandle.standardError.write(Data("==> \(text)\n".utf8))
}
