/// A wait ran out of time: ``withTimeout(_:_:file:line:_:)``, ``waitFor(_:timeout:every:file:line:_:)``
/// or ``EventRecorder/waitUntil(_:timeout:file:line:_:)`` did not see what it waited for.
public struct TimeLimitExceeded: Error, Sendable, CustomStringConvertible {
    /// What was awaited, in words (`"serve() to return"`).
    public let what: String
    /// The time limit that passed.
    public let limit: Duration
    /// What was seen instead (the last error, the events that did arrive), if anything.
    public let detail: String?
    /// The file of the wait that timed out.
    public let file: StaticString
    /// The line of the wait that timed out.
    public let line: UInt

    /// Creates the error for a wait at the caller's location.
    public init(what: String, limit: Duration, detail: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        self.what = what
        self.limit = limit
        self.detail = detail
        self.file = file
        self.line = line
    }

    /// `timed out after 2.0 seconds waiting for …; saw …`, without the location.
    public var message: String {
        "timed out after \(limit) waiting for \(what)" + (detail.map { "; \($0)" } ?? "")
    }

    /// The message and where the wait is.
    public var description: String {
        "\(message) [\(file):\(line)]"
    }
}
