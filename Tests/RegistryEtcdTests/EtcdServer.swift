import Foundation
import Logging
import MicroTesting
import Synchronization

@testable import RegistryEtcd

/// A private etcd for tests that stop, kill or reconfigure it: the `etcd` binary
/// (`MICRO_TEST_ETCD_BIN`, else `etcd` on `PATH`), one member on free loopback ports, a
/// data directory in a temp folder. ``restart()`` reuses the data directory and ports, as
/// a restarted member would.
final class EtcdServer: Sendable {
    let binary: String
    let directory: String
    let clientPort: Int
    let peerPort: Int
    let extraArguments: [String]
    /// `https` when started with a certificate, else `http`.
    let scheme: String
    private let process = Mutex<Process?>(nil)

    /// `127.0.0.1:PORT`.
    var address: String { "127.0.0.1:\(clientPort)" }
    /// The endpoint to configure a registry with.
    var endpoint: EtcdEndpoint { EtcdEndpoint(scheme: scheme, host: "127.0.0.1", port: clientPort) }

    /// Starts a new member and waits until it answers; with `certificate` (PEM
    /// certificate and key files) its client URL is `https`.
    static func start(extraArguments: [String] = [], certificate: (cert: String, key: String)? = nil) async throws -> EtcdServer {
        var arguments = extraArguments
        if let certificate { arguments += ["--cert-file", certificate.cert, "--key-file", certificate.key] }
        let server = try EtcdServer(extraArguments: arguments, scheme: certificate == nil ? "http" : "https")
        try await server.launch()
        return server
    }

    private init(extraArguments: [String], scheme: String) throws {
        self.scheme = scheme
        binary = try Self.findBinary()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        clientPort = try freePort()
        var peer = try freePort()
        while peer == clientPort { peer = try freePort() }
        peerPort = peer
        self.extraArguments = extraArguments
    }

    private static func findBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["MICRO_TEST_ETCD_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/etcd"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("no etcd binary: run scripts/test (it installs Debian's etcd-server), or set MICRO_TEST_ETCD_BIN")
    }

    /// Starts the process on the same data directory and ports and waits for it to
    /// answer.
    func launch() async throws {
        let peerURL = "http://127.0.0.1:\(peerPort)"
        let clientURL = "\(scheme)://127.0.0.1:\(clientPort)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", "default", "--data-dir", directory + "/data",
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "default=\(peerURL)",
        ] + extraArguments
        let log = directory + "/etcd.log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process.withLock { $0 = process }
        try await waitUntilAnswering()
    }

    /// Waits until a range request succeeds.
    func waitUntilAnswering(timeout: Duration = .seconds(15)) async throws {
        let registry = try EtcdRegistry(configuration: .init(
            endpoints: [endpoint], timeout: .seconds(1), tls: .init(insecureSkipVerify: true)
        ))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await registry.listServices()) != nil { return }
            if process.withLock({ $0?.isRunning }) == false {
                throw TestFailure("etcd exited at start; log: \(logTail)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("etcd did not answer within \(timeout); log: \(logTail)")
    }

    var logTail: String {
        let text = (try? String(contentsOfFile: directory + "/etcd.log", encoding: .utf8)) ?? ""
        return String(text.suffix(1500))
    }

    /// Sends `signal` and waits for the process to exit.
    func signal(_ signal: Int32) async {
        guard let process = self.process.withLock({ $0 }) else { return }
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.process.withLock { $0 = nil }
    }

    /// Stops etcd gracefully (SIGTERM).
    func stop() async { await signal(SIGTERM) }

    /// Kills etcd at once (SIGKILL), as a crash would.
    func kill9() async { await signal(SIGKILL) }

    /// Stops (if running) and starts again on the same data directory and ports.
    func restart() async throws {
        await stop()
        try await launch()
    }

    /// Kills the process and removes the data directory.
    func remove() async {
        await kill9()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a fresh private etcd and removes it afterwards.
    static func with<T>(
        extraArguments: [String] = [], certificate: (cert: String, key: String)? = nil, _ body: (EtcdServer) async throws -> T
    ) async throws -> T {
        let server = try await start(extraArguments: extraArguments, certificate: certificate)
        do {
            let result = try await body(server)
            await server.remove()
            return result
        } catch {
            await server.remove()
            throw error
        }
    }
}
