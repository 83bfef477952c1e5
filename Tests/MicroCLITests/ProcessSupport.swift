import Foundation
import MicroCore
import MicroTesting
import RegistryFile
import Testing

/// The directory holding the built `greeter` and `micro` executables: `MICRO_BIN_DIR`,
/// else the directory of the test bundle (SwiftPM puts executables beside it).
func executable(_ name: String) throws -> URL {
    let directory = ProcessInfo.processInfo.environment["MICRO_BIN_DIR"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw ProcessTestError("\(url.path) is missing: build the executables first with `swift build --build-tests` (scripts/test does)")
    }
    return url
}

struct ProcessTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a finished command printed.
struct CommandResult: Sendable {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a command to completion without blocking a thread of the cooperative pool; a
/// command still running after `timeLimit` is terminated (SIGTERM), so a hung command
/// fails its test instead of hanging it.
func run(_ url: URL, _ arguments: [String], timeLimit: Duration = .seconds(60)) async throws -> CommandResult {
    let process = Process()
    process.executableURL = url
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    let watchdog = Task {
        try? await Task.sleep(for: timeLimit)
        if !Task.isCancelled, process.isRunning { process.terminate() }
    }
    defer { watchdog.cancel() }
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            continuation.resume(throwing: error)
        }
    }
    return CommandResult(
        status: status,
        output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
        error: String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    )
}

/// A world of processes sharing one file registry in a temporary directory.
final class ProcessWorld: @unchecked Sendable {
    // @unchecked: `greeters` is only touched by the one test that owns the world.
    let directory: URL
    var greeters: [GreeterProcess] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("micro-cli-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var registryFlags: [String] { ["--registry", "file", "--registry_address", directory.appendingPathComponent("registry").path] }

    var registry: FileRegistry { FileRegistry(configuration: .init(directory: directory.appendingPathComponent("registry").path)) }

    /// Runs `micro` with the world's registry.
    func micro(_ arguments: [String]) async throws -> CommandResult {
        try await run(try executable("micro"), arguments + registryFlags)
    }

    /// Starts a greeter and waits until it is registered.
    @discardableResult
    func startGreeter(ttl: Int = 3) async throws -> GreeterProcess {
        let before = try await registry.getService("greeter").flatMap(\.nodes).count
        let greeter = try GreeterProcess(
            log: directory.appendingPathComponent("greeter-\(greeters.count).log"),
            arguments: registryFlags + ["--register_ttl", "\(ttl)", "--register_interval", "1"]
        )
        greeters.append(greeter)
        try await waitFor("greeter node \(before + 1) to register") {
            try await self.registry.getService("greeter").flatMap(\.nodes).count == before + 1
        }
        return greeter
    }

    /// Stops every process and removes the directory.
    func tearDown() {
        for greeter in greeters { greeter.kill(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A running `greeter` process with its log in a file.
final class GreeterProcess: Sendable {
    let process: Process
    let log: URL

    /// Starts `program` (the greeter unless named, or `micro` for a long-running command
    /// such as `subscribe`) with its output in `log`.
    init(log: URL, arguments: [String], program: String = "greeter") throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = try executable(program)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// How many `Greeter.Hello` calls this instance answered.
    var helloCount: Int { logText.components(separatedBy: "Greeter.Hello for").count - 1 }

    func kill(signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    func waitForExit() async throws -> Int32 {
        try await waitFor("greeter to exit") { !process.isRunning }
        return process.terminationStatus
    }
}
