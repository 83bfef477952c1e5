public import MicroCore
import NIOCore
import NIOPosix

/// A ``Transport`` over TCP with SwiftNIO: binary length-prefixed frames, many concurrent
/// streams (calls) on one connection.
///
/// ```swift
/// let transport = TCPTransport()
/// let listener = try await transport.listen("127.0.0.1:0")
/// let connection = try await transport.dial(listener.address, timeout: .seconds(5))
/// ```
///
/// Addresses are `host:port`, `[v6]:port`, or `:port` to listen on every interface. The
/// frame format is described on `TCPFrameDecoder`; malformed input, oversized frames and
/// peers that stall inside a frame close that connection with a logged warning.
///
/// Limits: inbound messages are buffered per stream without bound (no flow control yet),
/// and `send` queues without waiting for the socket, so a peer that does not read lets
/// the sender's queue grow.
public struct TCPTransport: Transport {
    /// The configuration.
    public let configuration: Configuration

    /// Creates a transport; see ``Configuration`` for the defaults.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Connects to `address` (`host:port`), failing after `timeout`.
    ///
    /// - Throws: ``TransportError/Code/invalidAddress`` for a malformed address,
    ///   ``TransportError/Code/connectFailed`` when the connection cannot be made in time.
    public func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        let target = try HostPort(parsingTCP: address, forListening: false)
        let connection = TCPConnection(role: .client, address: address, configuration: configuration)
        let bootstrap = ClientBootstrap(group: configuration.eventLoopGroup)
            .connectTimeout(TimeAmount(max(timeout, .milliseconds(1))))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try connection.install(on: channel) }
            }
        do {
            if let socketAddress = target.numericSocketAddress {
                _ = try await bootstrap.connect(to: socketAddress).get()
            } else {
                _ = try await bootstrap.connect(host: target.host, port: target.port).get()
            }
        } catch ChannelError.connectTimeout {
            throw TransportError(.connectFailed, "dial \(address): no connection within \(timeout)")
        } catch {
            throw TransportError(.connectFailed, "dial \(address): \(error)")
        }
        connection.startIdleTimer()
        return connection
    }

    /// Binds `address` (`host:port`; port 0 picks a free one) and starts accepting.
    ///
    /// - Throws: ``TransportError/Code/invalidAddress`` for a malformed address,
    ///   ``TransportError/Code/connectFailed`` when it cannot be bound.
    public func listen(_ address: String) async throws -> any TransportListener {
        let target = try HostPort(parsingTCP: address, forListening: true)
        let listener = TCPListener(configuration: configuration)
        let bootstrap = ServerBootstrap(group: configuration.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try listener.accept(channel) }
            }
        let channel: any Channel
        do {
            if let socketAddress = target.numericSocketAddress {
                channel = try await bootstrap.bind(to: socketAddress).get()
            } else {
                channel = try await bootstrap.bind(host: target.host, port: target.port).get()
            }
        } catch {
            throw TransportError(.connectFailed, "listen \(address): \(error)")
        }
        listener.attach(channel)
        return listener
    }
}
