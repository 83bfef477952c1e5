import MicroCore

/// One etcd member's client URL, as `--registry_address` names it.
///
/// Written as `host`, `host:port`, `[v6]:port` or a full `http://` / `https://` URL; the
/// port defaults to 2379 and the scheme to `http`.
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host name or address (an IPv6 address without brackets).
    public var host: String
    /// The port.
    public var port: Int

    /// Creates an endpoint.
    public init(scheme: String = "http", host: String, port: Int = 2379) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses `host`, `host:port`, `[v6]:port`, or `http(s)://host[:port][/]`.
    ///
    /// - Throws: ``MicroCore/OptionError`` for key `registry_address` when the text is
    ///   not such an address.
    public init(parsing text: String) throws {
        var rest = Substring(text.filter { $0 != " " && $0 != "\t" })
        var scheme = "http"
        if let range = rest.range(of: "://") {
            scheme = rest[..<range.lowerBound].lowercased()
            rest = rest[range.upperBound...]
            guard scheme == "http" || scheme == "https" else {
                throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': the scheme must be http or https")
            }
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else {
            throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': a path is not allowed; expected host:port or http(s)://host:port")
        }
        let address: HostPort
        do {
            address = try HostPort(parsing: String(rest), defaultPort: 2379)
        } catch {
            throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address \(error), or http(s)://host:port")
        }
        self.init(scheme: scheme, host: address.host, port: address.port)
    }

    /// Parses a comma-separated list; blanks are dropped.
    ///
    /// - Throws: ``MicroCore/OptionError`` for the first entry that is not an address.
    public static func list(_ text: String) throws -> [EtcdEndpoint] {
        try text.split(separator: ",").map { String($0) }.filter { !$0.allSatisfy { $0 == " " } }.map(EtcdEndpoint.init(parsing:))
    }

    /// `http://127.0.0.1:2379`, with brackets around an IPv6 host.
    public var url: String {
        "\(scheme)://\(HostPort(host: host, port: port))"
    }

    /// The URL.
    public var description: String { url }
}
