import MicroCore
import NIOCore

/// A parsed `host:port` (`[v6]:port` for IPv6).
struct TCPAddress: Sendable, Hashable {
    /// The host: an IP address or a name, without brackets.
    var host: String
    /// The port.
    var port: Int

    /// Parses `host:port`, `[::1]:port`, or (when listening) `:port` for every interface.
    ///
    /// - Throws: ``TransportError/Code/invalidAddress`` saying what is wrong.
    init(parsing text: String, forListening: Bool) throws(TransportError) {
        func invalid(_ why: String) -> TransportError {
            TransportError(.invalidAddress, "'\(text)': \(why); expected host:port, such as 127.0.0.1:8080 or [::1]:8080")
        }
        guard !text.isEmpty else { throw invalid("empty address") }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("'[' without ']'") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { throw invalid("no ':port' after ']'") }
            portPart = rest.dropFirst()
            guard !hostPart.isEmpty else { throw invalid("empty host between brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw invalid("no port") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw invalid("an IPv6 address needs brackets") }
        }
        guard !hostPart.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" || $0 == "[" || $0 == "]" }) else {
            throw invalid("the host has characters a host name cannot have")
        }
        guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= "0" && $0 <= "9" }),
            let port = Int(portPart), port <= 65_535
        else { throw invalid("the port must be a number from 0 to 65535") }
        if hostPart.isEmpty {
            guard forListening else { throw invalid("no host") }
            host = "0.0.0.0"
        } else {
            host = String(hostPart)
        }
        guard forListening || port != 0 else { throw invalid("port 0 cannot be dialled") }
        self.port = port
    }

    /// The socket address when the host is a numeric IP address (no name resolution needed).
    var numericSocketAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: port)
    }

    /// `host:port`, with brackets around an IPv6 host.
    static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else {
            return address.map { "\($0)" } ?? "unknown"
        }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
