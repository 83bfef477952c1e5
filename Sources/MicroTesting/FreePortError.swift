/// ``freePort()`` could not get a port from the system.
public struct FreePortError: Error, Sendable, CustomStringConvertible {
    /// The socket call that failed.
    public var call: String
    /// Its `errno`.
    public var errno: Int32

    /// Creates the error.
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `bind failed: errno 98`.
    public var description: String { "\(call) failed: errno \(errno)" }
}
