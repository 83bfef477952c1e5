/// Why a peer's bytes were rejected; the connection that carried them is closed.
struct TCPFrameError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, for the log and for the errors of the calls on that connection.
    var reason: String

    /// Creates an error.
    init(_ reason: String) {
        self.reason = reason
    }

    /// The reason.
    var description: String { reason }
}
