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
        guard !rest.isEmpty, !rest.contains("/") else {
            throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': expected host:port or http(s)://host:port")
        }
        var host = rest
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': unclosed '['")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': unexpected text after ']'")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            if rest.firstIndex(of: ":") == colon {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            // Several colons without brackets: a bare IPv6 address, default port.
        }
        var port = 2379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': the port must be 1 to 65535")
            }
            port = number
        }
        guard !host.isEmpty else {
            throw OptionError(key: OptionKey.registryAddress.name, message: "etcd address '\(text)': the host is empty")
        }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// Parses a comma-separated list; blanks are dropped.
    ///
    /// - Throws: ``MicroCore/OptionError`` for the first entry that is not an address.
    public static func list(_ text: String) throws -> [EtcdEndpoint] {
        try text.split(separator: ",").map { String($0) }.filter { !$0.allSatisfy { $0 == " " } }.map(EtcdEndpoint.init(parsing:))
    }

    /// `http://127.0.0.1:2379`, with brackets around an IPv6 host.
    public var url: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost):\(port)"
    }

    /// The URL.
    public var description: String { url }
}
