/// Reading a program's command line against the linked plugins' option keys.
extension Plugins {
    /// Resolves options from the command line and environment against ``optionKeys``:
    /// `code` over flags over `MICRO_…` variables over defaults.
    ///
    /// - Parameters:
    ///   - allowing: flag names (without dashes) the program reads itself; any other
    ///     `--flag` that is not a linked key is an error.
    ///   - program: the name `--help` and `--version` show.
    /// - Throws: ``CommandLineRequest`` for `--help` (``help(program:)``) or `--version`;
    ///   ``UnknownFlagError`` for an unknown flag, naming the nearest known one;
    ///   ``OptionError`` for a flag without a value.
    public func resolveOptions(
        code: MicroOptions = MicroOptions(),
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = MicroOptions.processEnvironment,
        allowing: [String] = [],
        program: String = MicroOptions.programName
    ) throws -> MicroOptions {
        let keys = optionKeys
        let flags = try CommandLineFlags(parsing: arguments, keys: keys, allowing: allowing)
        switch flags.request {
        case .help: throw CommandLineRequest(kind: .help, text: help(program: program))
        case .version: throw CommandLineRequest(kind: .version, text: MicroVersion.line(program: program))
        case nil: return MicroOptions.resolve(code: code, flags: flags.values, environment: environment, keys: keys)
        }
    }

    /// The `--help` text for a program linking these plugins: ``optionKeys`` as
    /// ``MicroOptions/help(program:keys:)`` renders them, the keys that choose a plugin
    /// listing the linked names and the one chosen by default.
    public func help(program: String) -> String {
        MicroOptions.help(program: program, keys: describedOptionKeys)
    }

    /// ``optionKeys`` for display: each key that chooses a plugin (`--registry`, …) says
    /// which plugins are linked and shows the one used when none is named as its default.
    /// Only for help; resolve with ``optionKeys``.
    public var describedOptionKeys: [OptionKey] {
        optionKeys.map { key in
            guard let kind = Plugins.keys.first(where: { $0.value.name == key.name })?.key else { return key }
            var described = key
            let names = plugins(of: kind).map(\.name)
            described.help = names.isEmpty
                ? "\(kind.rawValue) plugin (none linked)"
                : "\(kind.rawValue) plugin: \(names.joined(separator: ", "))"
            described.defaultValue = try? plugin(kind, options: MicroOptions()).name
            return described
        }
    }
}
