package import MicroCore
package import NIOCore

extension HostPort {
    /// Parses a TCP address: `host:port` or `[v6]:port`, and when listening also `:port`
    /// (every interface) and port 0 (a free port).
    ///
    /// - Throws: ``MicroCore/TransportError/Code/invalidAddress`` saying what is wrong and
    ///   which form is expected.
    package init(parsingTCP text: String, forListening: Bool) throws(TransportError) {
        do {
            try self.init(parsing: text, anyHost: forListening ? "0.0.0.0" : nil, allowsPortZero: forListening)
        } catch {
            throw TransportError(.invalidAddress, error.description)
        }
    }

    /// The socket address when the host is a numeric IP address (no name resolution needed).
    package var numericSocketAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: port)
    }

    /// `host:port` of a socket address, with brackets around an IPv6 host; `unknown`
    /// without one.
    package static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else {
            return address.map { "\($0)" } ?? "unknown"
        }
        return HostPort(host: ip, port: port).description
    }
}
