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
