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
    /// With a ``Configuration/channelLayer`` (TLS), returns only once the layer is ready:
    /// its handshake counts against `timeout` too.
    ///
    /// - Throws: ``TransportError/Code/invalidAddress`` for a malformed address,
    ///   ``TransportError/Code/connectFailed`` when the connection cannot be made in time
    ///   or its channel layer fails, naming the cause.
    public func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        let target = try HostPort(parsingTCP: address, forListening: false)
        let connection = TCPConnection(role: .client, address: address, configuration: configuration)
        let eventLoop = configuration.eventLoopGroup.next()
        let deadline = NIODeadline.now() + TimeAmount(max(timeout, .milliseconds(1)))
        // Completed by the channel layer, when there is one, once it is ready.
        let layer = configuration.channelLayer.map { (layer: $0, ready: eventLoop.makePromise(of: Void.self)) }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(max(timeout, .milliseconds(1))))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let layer {
                        do {
                            try layer.layer.addHandlers(to: channel, side: .dialing(target)).cascade(to: layer.ready)
                        } catch {
                            layer.ready.fail(error)
                            throw error
                        }
                    }
                    try connection.install(on: channel)
                }
            }
        let channel: any Channel
        do {
            if let socketAddress = target.numericSocketAddress {
                channel = try await bootstrap.connect(to: socketAddress).get()
            } else {
                channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            }
        } catch ChannelError.connectTimeout {
            layer?.ready.fail(ChannelError.connectTimeout(TimeAmount(timeout)))
            throw TransportError(.connectFailed, "dial \(address): no connection within \(timeout)")
        } catch {
            layer?.ready.fail(error)
            throw TransportError(.connectFailed, "dial \(address): \(error)")
        }
        if let layer {
            try await waitUntilReady(layer.layer, layer.ready, channel: channel, address: address, deadline: deadline, timeout: timeout)
        }
        connection.startIdleTimer()
        return connection
    }

    /// Waits for the channel layer of a connected channel to be ready, failing when it
    /// fails, the channel closes or `deadline` passes first; closes the channel then.
    private func waitUntilReady(
        _ layer: any TCPChannelLayer, _ ready: EventLoopPromise<Void>, channel: any Channel, address: String,
        deadline: NIODeadline, timeout: Duration
    ) async throws {
        let name = layer.name
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            ready.fail(TransportError(.connectFailed, "dial \(address): \(name) not ready within \(timeout)"))
        }
        channel.closeFuture.whenComplete { _ in
            // A turn of the loop later, so that a layer that closed the connection for a
            // reason reports that reason first.
            channel.eventLoop.execute {
                ready.fail(TransportError(.connectFailed, "dial \(address): the connection closed before \(name) was ready"))
            }
        }
        do {
            try await ready.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            try? await channel.close()
            if let error = error as? TransportError { throw error }
            throw TransportError(.connectFailed, "dial \(address): \(name) failed: \(error)")
        }
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
