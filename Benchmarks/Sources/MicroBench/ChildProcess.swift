import Foundation

/// A process the driver started from its own executable, with standard output piped to
/// the driver and standard error passed through.
final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: the driver uses each child from one task at a time; `Process`
    // and `FileHandle` are not marked Sendable but are safe to hand between threads.
    private let process = Process()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    /// Starts `/proc/self/exe` with `arguments` and `environment` added to the driver's.
    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: ChildProcess.executablePath)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// This executable's path.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    var pid: Int32 { process.processIdentifier }

    /// The next line of standard output, or `nil` at its end.
    func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let data = output.fileHandleForReading.availableData
            if data.isEmpty {
                guard !buffered.isEmpty else { return nil }
                defer { buffered = [] }
                return String(decoding: buffered, as: UTF8.self)
            }
            buffered += data
        }
    }

    /// Waits for a line starting with `prefix` and returns the rest of it.
    func waitFor(_ prefix: String) throws -> String {
        while let line = readLine() {
            if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
        }
        throw BenchError("\(process.arguments?.joined(separator: " ") ?? "child") ended before printing \(prefix)")
    }

    /// Sends SIGTERM (then SIGKILL after `grace`) and waits for the process to end.
    func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the process to end; kills it after `timeout` seconds.
    func wait(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }
}
