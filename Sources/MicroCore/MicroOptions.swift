#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The options that choose and configure plugins: go-micro's flag names and environment
/// variables, resolved with precedence code > flags > environment > defaults.
///
/// Each key `name` is read from the flag `--name VALUE` (or `--name=VALUE`; `-` and `_`
/// are interchangeable) and from the environment variable `MICRO_NAME`. Plugins declare
/// their own keys (an etcd user name, a TLS file) with ``OptionKey``; Plugins.md lists
/// them all.
public struct MicroOptions: Sendable, Hashable {
    /// The raw values by key name.
    public var values: [String: String]

    /// Creates options from raw values (the "code" layer).
    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// This process's environment variables.
    public static var processEnvironment: [String: String] {
        ProcessInfo.processInfo.environment
    }

    /// The raw value of `key`.
    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The raw value of `key`.
    public subscript(key: OptionKey) -> String? {
        get { values[key.name] }
        set { values[key.name] = newValue }
    }

    /// Resolves options: `code` wins over `arguments` (flags), which win over
    /// `environment` (`MICRO_…`), which win over each key's default.
    ///
    /// Every `--flag` in `arguments` must be one of `keys` or of `allowing` (flags the
    /// program reads itself); arguments that are not flags, and everything after `--`,
    /// are left for the application.
    ///
    /// - Throws: ``CommandLineRequest`` when `arguments` ask for `--help` (`-h`), with
    ///   the flags of `keys` (their `MICRO_…` variables and defaults), or `--version`;
    ///   ``UnknownFlagError`` for any other flag, naming the nearest known one;
    ///   ``OptionError`` when a flag has no value.
    public static func resolve(
        code: MicroOptions = MicroOptions(),
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = MicroOptions.processEnvironment,
        keys: [OptionKey] = OptionKey.core,
        allowing: [String] = [],
        program: String = MicroOptions.programName
    ) throws -> MicroOptions {
        let flags = try CommandLineFlags(parsing: arguments, keys: keys, allowing: allowing)
        switch flags.request {
        case .help: throw CommandLineRequest(kind: .help, text: help(program: program, keys: keys))
        case .version: throw CommandLineRequest(kind: .version, text: MicroVersion.line(program: program))
        case nil: return resolve(code: code, flags: flags.values, environment: environment, keys: keys)
        }
    }

    /// Resolves options from flag values already read (``CommandLineFlags/values``):
    /// `code` over `flags` over `environment` over each key's default.
    public static func resolve(
        code: MicroOptions = MicroOptions(),
        flags: [String: String],
        environment: [String: String] = MicroOptions.processEnvironment,
        keys: [OptionKey]
    ) -> MicroOptions {
        var result = MicroOptions()
        for key in keys {
            if let value = key.defaultValue { result.values[key.name] = value }
            if let value = environment[key.environmentName] { result.values[key.name] = value }
        }
        result.values.merge(flags) { _, flag in flag }
        result.values.merge(code.values) { _, code in code }
        return result
    }

    /// The values of the flags of `keys` in `arguments`.
    ///
    /// - Throws: ``OptionError`` when a known flag has no value; ``UnknownFlagError``
    ///   for a `--flag` that is neither one of `keys` nor in `allowing`.
    public static func parseFlags(_ arguments: [String], keys: [OptionKey], allowing: [String] = []) throws -> [String: String] {
        try CommandLineFlags(parsing: arguments, keys: keys, allowing: allowing).values
    }

    /// The value of `key` as a comma-separated list, blanks dropped.
    public func list(_ key: String) -> [String] {
        guard let value = values[key] else { return [] }
        return value.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
    }

    /// The value of `key` as a whole number.
    ///
    /// - Throws: ``OptionError`` when it is set but is not a whole number.
    public func integer(_ key: String) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = Int(value.trimmed) else {
            throw OptionError(key: key, message: "expects a whole number, got '\(value)'")
        }
        return number
    }

    /// The value of `key` as a duration: a bare number is seconds (go-micro's
    /// `--register_ttl 60`), or Go's form such as `500ms`, `5s`, `1m30s`.
    ///
    /// - Throws: ``OptionError`` when it is set but is not a duration.
    public func duration(_ key: String) throws -> Duration? {
        guard let value = values[key] else { return nil }
        guard let duration = MicroOptions.parseDuration(value) else {
            throw OptionError(key: key, message: "expects seconds or a duration such as 500ms, 5s, 1m30s; got '\(value)'")
        }
        return duration
    }

    /// Parses `60`, `1.5`, `500ms`, `5s`, `1m30s`, `2h`, `100us`, `10ns`.
    public static func parseDuration(_ text: String) -> Duration? {
        let text = text.trimmed
        if let seconds = Double(text) { return nanoseconds(seconds * 1e9) }
        var total: Double = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += amount * scale
        }
        return nanoseconds(total)
    }

    /// A duration of `count` nanoseconds, or `nil` when negative, not finite, or past
    /// what `Int64` holds (about 292 years).
    private static func nanoseconds(_ count: Double) -> Duration? {
        guard count.isFinite, count >= 0, count < 9.2e18 else { return nil }
        return .nanoseconds(Int64(count))
    }
}

/// A named option, its environment variable, default and help text.
public struct OptionKey: Sendable, Hashable {
    /// The flag name without dashes, such as `registry_address`.
    public var name: String
    /// The default value; `nil` when there is none.
    public var defaultValue: String?
    /// One line of help for `--help` and Plugins.md.
    public var help: String

    /// Creates a key.
    public init(_ name: String, default defaultValue: String? = nil, help: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
    }

    /// `MICRO_` + the upper-cased name, such as `MICRO_REGISTRY_ADDRESS`.
    public var environmentName: String { "MICRO_" + name.uppercased() }

    /// `--registry`: the registry plugin.
    public static let registry = OptionKey("registry", help: "registry plugin, such as memory, file, etcd, consul, mdns")
    /// `--registry_address`: comma-separated registry addresses.
    public static let registryAddress = OptionKey("registry_address", help: "comma-separated registry addresses")
    /// `--transport`: the transport plugin.
    public static let transport = OptionKey("transport", help: "transport plugin, such as memory, tcp, tls")
    /// `--broker`: the broker plugin.
    public static let broker = OptionKey("broker", help: "broker plugin, such as memory, http")
    /// `--broker_address`: the broker's address.
    public static let brokerAddress = OptionKey("broker_address", help: "broker address")
    /// `--selector`: the selector plugin.
    public static let selector = OptionKey("selector", help: "selector plugin, such as random, roundrobin, cache")
    /// `--content_type`: the content type the client sends.
    public static let contentType = OptionKey("content_type", default: "application/json", help: "content type of requests")
    /// `--server_default_content_type`: the content type the server assumes for a request
    /// or broker message without one (go-micro assumes `application/protobuf`).
    public static let serverDefaultContentType = OptionKey(
        "server_default_content_type", default: "application/json", help: "content type assumed for a request without one"
    )
    /// `--server_name`: the service name.
    public static let serverName = OptionKey("server_name", help: "name of the service")
    /// `--server_version`: the service version.
    public static let serverVersion = OptionKey("server_version", help: "version of the service (default latest)")
    /// `--server_address`: where the server listens.
    public static let serverAddress = OptionKey("server_address", help: "address the server listens on, host:port")
    /// `--server_advertise`: the address registered instead of the bound one.
    public static let serverAdvertise = OptionKey("server_advertise", help: "address to register instead of the bound one")
    /// `--register_ttl`: seconds a registration stays without a heartbeat.
    public static let registerTTL = OptionKey("register_ttl", default: "90", help: "seconds a registration lives without renewal")
    /// `--register_interval`: seconds between re-registrations.
    public static let registerInterval = OptionKey("register_interval", default: "30", help: "seconds between re-registrations")
    /// `--client_retries`: retries after the first attempt.
    public static let clientRetries = OptionKey("client_retries", default: "1", help: "retries after a failed attempt (408, 503, connection)")
    /// `--client_request_timeout`: the time a whole call may take.
    public static let clientRequestTimeout = OptionKey("client_request_timeout", default: "5s", help: "time a call may take, retries included")

    /// The keys every program reads.
    public static let core: [OptionKey] = [
        .registry, .registryAddress, .transport, .broker, .brokerAddress, .selector, .contentType,
        .serverName, .serverVersion, .serverAddress, .serverAdvertise, .registerTTL, .registerInterval,
        .clientRetries, .clientRequestTimeout,
        .serverDefaultContentType,
    ]
}

/// An option has a value that cannot be used.
public struct OptionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key.
    public var key: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// `--register_ttl: expects …`
    public var description: String { "--\(key) (\(OptionKey(key, help: "").environmentName)): \(message)" }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
