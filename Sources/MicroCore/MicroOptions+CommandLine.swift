/// The `--help` text, rendered from option keys as go-micro's tools show their flags.
extension MicroOptions {
    /// The name this program was started as: the last path component of its first
    /// argument (`greeter`).
    public static var programName: String {
        CommandLine.arguments.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "micro"
    }

    /// The `--help` text of a program whose flags are `keys`: a usage line, then each
    /// key's flag with its help, default and environment variable, then `--help` and
    /// `--version`.
    ///
    /// ```
    /// USAGE: greeter [--flag value]…
    ///
    /// FLAGS (code, then flags, then environment variables, then defaults):
    ///   --register_ttl value   seconds a registration lives without renewal (default: 90) [$MICRO_REGISTER_TTL]
    /// ```
    public static func help(program: String, keys: [OptionKey]) -> String {
        let requests = [
            ("-h, --help", "show this help and exit"),
            ("--version", "print the version (swift-micro \(MicroVersion.current)) and exit"),
        ]
        return "USAGE: \(program) [--flag value]…\n\n" + flagList(keys, extra: requests)
    }

    /// The flags of `keys` under a `FLAGS` heading, one per line, as ``help(program:keys:)``
    /// lists them; for tools that render the rest of their help themselves.
    ///
    /// - Parameters:
    ///   - heading: the first line's first word.
    ///   - extra: more lines after the keys' (a flag and its help), aligned with them.
    public static func flagList(_ keys: [OptionKey], heading: String = "FLAGS", extra: [(flag: String, help: String)] = []) -> String {
        var rows = keys.map { key in
            var help = key.help
            if let value = key.defaultValue { help += " (default: \(value))" }
            return (flag: "--\(key.name) value", help: help + " [$\(key.environmentName)]")
        }
        rows += extra
        let width = min(rows.map(\.flag.count).max() ?? 0, 32) + 3
        let lines = rows.map { row in
            "  " + row.flag + String(repeating: " ", count: max(1, width - row.flag.count)) + row.help
        }
        return (["\(heading) (code, then flags, then environment variables, then defaults):"] + lines).joined(separator: "\n")
    }
}
