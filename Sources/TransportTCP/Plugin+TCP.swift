public import MicroCore

extension Plugin {
    /// The TCP transport (``TCPTransport``), named `tcp`: the default transport.
    ///
    /// Options: `tcp_max_frame_size`, `tcp_frame_timeout`, `tcp_idle_timeout`
    /// (see ``TCPTransport/Configuration``).
    public static let tcp: Plugin = .transport(
        "tcp", summary: "binary frames over TCP (SwiftNIO), many calls per connection",
        options: TCPTransport.Configuration.optionKeys
    ) { context in
        TCPTransport(configuration: try TCPTransport.Configuration(options: context.options, logger: context.logger))
    }
}
