/// A ``FileRegistry`` operation failed: a bad name, a directory that cannot be made, or a
/// file call that failed.
///
/// The message names the path involved and says what to do.
public struct FileRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A service name or node id is empty or too long to be a file name.
        case invalidName
        /// The registry directory (or a service directory in it) cannot be created or used.
        case directory
        /// Reading, writing, renaming or removing a node file failed.
        case io
        /// A record could not be encoded to JSON.
        case encoding
    }

    /// What kind of failure this is.
    public var code: Code
    /// The file or directory involved; empty when none.
    public var path: String
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(code: Code, path: String = "", message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `file registry: directory /run/user/1000/micro/registry: cannot be created: …`
    public var description: String {
        path.isEmpty ? "file registry: \(message)" : "file registry: \(path): \(message)"
    }
}
