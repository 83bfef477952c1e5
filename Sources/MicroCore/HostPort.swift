/// A network address as `host:port`, the one form every plugin reads and writes.
///
/// Written `host:port`, `[v6]:port` for an IPv6 address, and (as each use allows) `host`
/// alone for a default port, `:port` for every interface, or a bare IPv6 address with the
/// default port:
///
/// ```swift
/// try HostPort(parsing: "127.0.0.1:8080")                  // 127.0.0.1, 8080
/// try HostPort(parsing: "[::1]:8080")                      // ::1, 8080
/// try HostPort(parsing: "etcd", defaultPort: 2379)         // etcd, 2379
/// try HostPort(parsing: ":8080", anyHost: "0.0.0.0")       // 0.0.0.0, 8080
/// try HostPort(parsing: "8080")                            // ParseError: no port
/// ```
///
/// ``description`` writes it back with brackets around an IPv6 host, so that parsing it
/// again gives the same value.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host: an IP address (IPv6 without brackets) or a name.
    public var host: String
    /// The port, 0 to 65535.
    public var port: Int

    /// Creates an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`.
    ///
    /// - Parameters:
    ///   - text: the address.
    ///   - defaultPort: the port when `text` has none; also lets a bare IPv6 address
    ///     (several colons, no brackets) stand for itself with this port. `nil` (the
    ///     default) requires a port.
    ///   - anyHost: the host when `text` names none (`:8080`), such as `0.0.0.0` for
    ///     listening on every interface; `nil` (the default) requires a host.
    ///   - allowsPortZero: whether port 0 (a listener's "pick a free port") is allowed.
    /// - Throws: ``ParseError`` saying what is wrong and which form is expected.
    public init(
        parsing text: String, defaultPort: Int? = nil, anyHost: String? = nil, allowsPortZero: Bool = false
    ) throws(ParseError) {
        func invalid(_ reason: String) -> ParseError {
            ParseError(text: text, reason: reason, expected: HostPort.expectedForm(defaultPort: defaultPort, anyHost: anyHost))
        }
        guard !text.isEmpty else { throw invalid("the address is empty") }
        let hostPart: Substring
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("'[' without ']'") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.first == ":" {
                portPart = rest.dropFirst()
            } else if !rest.isEmpty {
                throw invalid("'\(rest)' after ']' where ':port' was expected")
            }
            guard !hostPart.isEmpty else { throw invalid("no host between the brackets") }
        } else if let colon = text.lastIndex(of: ":") {
            if text.firstIndex(of: ":") != colon {
                // Several colons without brackets: a bare IPv6 address, port and all.
                guard defaultPort != nil else { throw invalid("an IPv6 address needs brackets, as in [::1]:8080") }
                hostPart = Substring(text)
            } else {
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
            }
        } else {
            hostPart = Substring(text)
        }
        guard !hostPart.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" || $0 == "[" || $0 == "]" || $0 == "@" }) else {
            throw invalid("the host '\(hostPart)' has characters a host cannot have")
        }
        let port: Int
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                let number = Int(portPart), number <= 65_535
            else { throw invalid("the port '\(portPart)' is not a number from \(allowsPortZero ? 0 : 1) to 65535") }
            guard number != 0 || allowsPortZero else { throw invalid("port 0 cannot be used here") }
            port = number
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw invalid("no port")
        }
        if hostPart.isEmpty {
            guard let anyHost else { throw invalid("no host") }
            host = anyHost
        } else {
            host = String(hostPart)
        }
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host: `127.0.0.1:8080`, `[::1]:8080`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The forms an address may take, for error messages.
    private static func expectedForm(defaultPort: Int?, anyHost: String?) -> String {
        var forms = defaultPort.map { "host or host:port (port \($0) when left out), such as 10.0.0.5, 10.0.0.5:\($0) or [::1]:\($0)" }
            ?? "host:port, such as 127.0.0.1:8080 or [::1]:8080"
        if anyHost != nil { forms += ", or :port for every interface" }
        return forms
    }

    /// Why a text is not a `host:port` address.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text that was parsed.
        public var text: String
        /// What is wrong with it, such as `no port`.
        public var reason: String
        /// The forms that would have been accepted.
        public var expected: String

        /// Creates an error.
        public init(text: String, reason: String, expected: String) {
            self.text = text
            self.reason = reason
            self.expected = expected
        }

        /// `'127.0.0.1': no port; expected host:port, such as 127.0.0.1:8080 or [::1]:8080`
        public var description: String { "'\(text)': \(reason); expected \(expected)" }
    }
}
