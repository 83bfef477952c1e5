package import MicroCore
package import NIOCore

/// A layer of channel handlers between the socket and ``TCPTransport``'s framing, such as
/// TLS: set it as ``TCPTransport/Configuration/channelLayer`` and every dialled and
/// accepted connection gets its handlers before the framing.
///
/// ```swift
/// var configuration = TCPTransport.Configuration()
/// configuration.channelLayer = TLSChannelLayer(context: context)
/// let transport = TCPTransport(configuration: configuration)
/// ```
///
/// `dial` returns only once the layer says it is ready (its handshake is done); a layer
/// that fails, a connection that closes first, or a dial timeout that passes first make
/// `dial` throw ``MicroCore/TransportError/Code/connectFailed`` naming the layer and the
/// cause. On a listener, a connection whose layer fails or is not ready within
/// ``TCPTransport/Configuration/frameTimeout`` is closed with a logged warning naming the
/// peer and the cause.
package protocol TCPChannelLayer: Sendable {
    /// What the layer is, for errors and logs, such as `TLS`.
    var name: String { get }

    /// Adds the layer's handlers to `channel`, on its event loop, before it is connected
    /// (dial) or registered (accept); the transport adds its framing after them.
    ///
    /// - Returns: a future, on the channel's event loop, that succeeds once the layer
    ///   can carry frames (its handshake is done) and fails with the reason it cannot.
    ///   The layer passes no inbound bytes on to the framing before then.
    /// - Throws: when the handlers cannot be added; the connection then fails as if the
    ///   future had.
    func addHandlers(to channel: any Channel, side: TCPChannelSide) throws -> EventLoopFuture<Void>
}

/// Which end of a connection a ``TCPChannelLayer`` sets up.
package enum TCPChannelSide: Sendable, Hashable {
    /// A connection this side dials, to `address` (a TLS layer's server name).
    case dialing(HostPort)
    /// A connection a listener accepted.
    case accepting
}
