public import Logging
import Synchronization

/// Keeps what is logged through its loggers, so a test can check a backend's warnings.
///
/// ```swift
/// let capture = LogCapture()
/// let registry = FileRegistry(configuration: .init(logger: capture.logger()))
/// …
/// #expect(capture.warnings.contains { $0.message.contains("not a service record") })
/// ```
public final class LogCapture: Sendable {
    /// One logged message.
    public struct Record: Sendable {
        /// Its level.
        public var level: Logger.Level
        /// Its message.
        public var message: String
        /// The logger's and the message's metadata as `key=value`, sorted by key and
        /// separated by spaces.
        public var metadata: String

        /// Level, message and metadata on one line.
        public var line: String { "\(level) \(message) \(metadata)" }
    }

    private let storage = Mutex<[Record]>([])

    /// Creates an empty capture.
    public init() {}

    /// Everything logged so far, oldest first.
    public var records: [Record] { storage.withLock { $0 } }

    /// What was logged at `warning` or above.
    public var warnings: [Record] { records.filter { $0.level >= .warning } }

    /// A logger, at level `trace`, that records into this capture.
    public func logger(_ label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(capture: self) }
    }

    /// The first warning whose message contains `text`, waiting up to `timeout` for it.
    public func waitForWarning(containing text: String, timeout: Duration = .seconds(3)) async -> Record? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let record = warnings.first(where: { $0.message.contains(text) }) { return record }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return warnings.first { $0.message.contains(text) }
    }

    private func append(_ record: Record) {
        storage.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: fields))
        }
    }
}
