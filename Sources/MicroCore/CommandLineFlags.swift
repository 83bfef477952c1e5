/// A command line read against option keys: the values of the keys' flags, the
/// arguments left for the program, and whether it asked for help or the version.
///
/// A key `name` is the flag `--name VALUE` or `--name=VALUE` (`-` and `_` alike:
/// `--registry-address` is `registry_address`). `--help`, `-h` and `--version` set
/// ``request``. Any other `--flag` is an error naming the nearest known flag, unless the
/// program handles it itself (`allowing`). Arguments that are not flags (positional
/// values, single-dash arguments) are left alone, and so is everything after `--`.
public struct CommandLineFlags: Sendable, Hashable {
    /// The keys' values by key name, as given on the command line.
    public var values: [String: String]
    /// The arguments that are not the keys' flags, their values, or a help or version
    /// request, in their order; for the program to read.
    public var remaining: [String]
    /// `--help` (`-h`) or `--version`, when given.
    public var request: CommandLineRequest.Kind?

    /// Reads `arguments` (without the program name).
    ///
    /// - Parameters:
    ///   - arguments: the command line after the program name.
    ///   - keys: the option keys whose flags are read.
    ///   - other: flag names (without dashes) the program reads itself, such as a
    ///     subcommand's `output`; they and whatever follows them stay in ``remaining``.
    /// - Throws: ``OptionError`` when a key's flag has no value; ``UnknownFlagError`` for
    ///   the first `--flag` that is neither a key nor in `other`, suggesting the nearest
    ///   of both (not thrown when help or the version was asked for: those win).
    public init(parsing arguments: [String], keys: [OptionKey], allowing other: [String] = []) throws {
        let known = Set(keys.map(\.name))
        let allowed = Set(other.map(CommandLineFlags.normalized))
        values = [:]
        remaining = []
        request = nil
        var unknown: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                remaining += arguments[(index - 1)...]
                break
            }
            if argument == "--help" || argument == "-h" {
                request = .help
                continue
            }
            if argument == "--version" {
                if request == nil { request = .version }
                continue
            }
            guard argument.hasPrefix("--") else {
                remaining.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            let name: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            let key = CommandLineFlags.normalized(name)
            guard known.contains(key) else {
                if !allowed.contains(key), unknown == nil { unknown = name }
                remaining.append(argument)
                continue
            }
            if value == nil {
                guard index < arguments.endIndex, !arguments[index].hasPrefix("--") else {
                    throw OptionError(key: key, message: "flag --\(name) needs a value")
                }
                value = arguments[index]
                index += 1
            }
            values[key] = value
        }
        if let unknown, request == nil {
            throw UnknownFlagError(flag: unknown, known: keys.map(\.name) + other + ["help", "version"])
        }
    }

    /// `name` with `-` read as `_`.
    static func normalized(_ name: String) -> String {
        String(name.map { $0 == "-" ? "_" : $0 })
    }
}
