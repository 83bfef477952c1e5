import Foundation
import Logging
import MicroCore
import Synchronization
import Testing

@testable import RegistryFile

/// Every suite of this target, run one test at a time: the watch tests measure
/// latency, and the concurrency test keeps both cores busy for seconds, so running
/// them side by side would measure the machine's load, not the registry.
@Suite(.serialized) enum RegistryFileSuites {}

/// A fresh directory under the system temp directory, removed by ``remove()``.
struct TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + (NSTemporaryDirectory().hasSuffix("/") ? "" : "/") + "registry-file-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The registry directory inside (not yet created, so the registry makes it).
    var registry: String { path + "/registry" }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a temp directory and removes it afterwards, even when it throws.
    static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        return try await body(directory)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension FileRegistry {
    /// A registry over `directory` for tests.
    static func test(_ directory: String, logger: Logger? = nil) -> FileRegistry {
        FileRegistry(
            configuration: .init(directory: directory, logger: logger ?? Logger(label: "test.registry.file"))
        )
    }
}

/// A service record using every field.
func sampleService(name: String = "greeter", version: String = "1.0.0", nodes: [Node]) -> ServiceRecord {
    ServiceRecord(
        name: name,
        version: version,
        metadata: ["owner": "team-a", "region": "eu"],
        endpoints: [
            Endpoint(
                name: "Greeter.Hello",
                request: EndpointValue(name: "HelloRequest", type: "HelloRequest", values: [EndpointValue(name: "name", type: "string")]),
                response: EndpointValue(name: "HelloResponse", type: "HelloResponse", values: [EndpointValue(name: "greeting", type: "string")]),
                metadata: ["stream": "false"]
            ),
            Endpoint(name: "Greeter.Ping"),
        ],
        nodes: nodes
    )
}

func sampleNode(_ id: String, port: Int = 8080) -> Node {
    Node(id: id, address: "127.0.0.1:\(port)", metadata: ["protocol": "mucp", "transport": "tcp", "registry": "file", "server": "mucp", "broker": "http"])
}

/// Whether a file or directory exists at `path`.
func exists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// Every path under `root`, relative.
func allPaths(under root: String) -> [String] {
    (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
}

/// Iterates a watch in a task and records every event with the time it arrived.
final class WatchRecorder: Sendable {
    typealias Arrival = (event: RegistryEvent, at: ContinuousClock.Instant)

    private let arrivals = Mutex<[Arrival]>([])
    private let finished = Mutex(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ watch: RegistryWatch) {
        // The task keeps the recorder alive until it is cancelled; tests always cancel.
        let handle = Task { [self] in
            do {
                for try await event in watch {
                    let now = ContinuousClock.now
                    self.arrivals.withLock { $0.append((event, now)) }
                }
            } catch {}
            self.finished.withLock { $0 = true }
        }
        task.withLock { $0 = handle }
    }

    var events: [RegistryEvent] { arrivals.withLock { $0.map(\.event) } }
    var isFinished: Bool { finished.withLock { $0 } }

    /// The first recorded event after index `from` matching `predicate`, waiting up to
    /// `timeout`.
    func wait(
        from start: Int = 0, timeout: Duration = .seconds(3), _ predicate: (RegistryEvent) -> Bool
    ) async throws -> (index: Int, arrival: Arrival)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let snapshot = arrivals.withLock { $0 }
            if start < snapshot.count {
                for index in start..<snapshot.count where predicate(snapshot[index].event) {
                    return (index, snapshot[index])
                }
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    func cancel() {
        task.withLock { $0?.cancel() }
    }

    /// Waits until the iterating task has ended.
    func waitFinished(timeout: Duration = .seconds(2)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isFinished { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return isFinished
    }
}
