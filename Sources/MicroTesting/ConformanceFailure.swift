/// A conformance check did not hold: what was expected, what was seen, and in which case.
///
/// The suites throw it from `Case.run`; test frameworks report the message (Swift
/// Testing prints the thrown error, XCTest can pass `file` and `line` to `XCTFail`).
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    /// What differed, naming the case.
    public let message: String
    /// The suite source file of the check that failed.
    public let file: StaticString
    /// The line of the check that failed.
    public let line: UInt

    /// Creates a failure at the caller's location.
    public init(_ message: String, file: StaticString = #filePath, line: UInt = #line) {
        self.message = message
        self.file = file
        self.line = line
    }

    /// The message and where the check is.
    public var description: String {
        "\(message) [\(file):\(line)]"
    }

    /// The same failure with `prefix` in front of the message.
    func prefixed(_ prefix: String) -> ConformanceFailure {
        ConformanceFailure(prefix + message, file: file, line: line)
    }
}
