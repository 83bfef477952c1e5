/// The command line asked for help or the version instead of a run: thrown by
/// ``MicroOptions/resolve(code:arguments:environment:keys:allowing:program:)`` and
/// ``Plugins/resolveOptions(code:arguments:environment:allowing:program:)`` (and so by
/// `MicroRuntime(plugins:)`) when the arguments hold `--help`, `-h` or `--version`.
///
/// The executable prints ``text`` on standard output and exits with status 0 instead of
/// starting anything:
///
/// ```swift
/// do {
///     let runtime = try MicroRuntime(plugins: plugins)
///     …
/// } catch let request as CommandLineRequest {
///     print(request.text)
///     exit(0)
/// }
/// ```
public struct CommandLineRequest: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was asked for.
    public enum Kind: Sendable, Hashable {
        /// `--help` or `-h`: the flags, their environment variables and defaults.
        case help
        /// `--version`.
        case version
    }

    /// What was asked for.
    public var kind: Kind
    /// What to print on standard output.
    public var text: String

    /// Creates a request.
    public init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }

    /// The text to print.
    public var description: String { text }
}
