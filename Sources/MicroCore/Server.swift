/// Answers the calls that arrive on transport streams and the events a broker delivers.
///
/// A server does no I/O of its own: the runtime's `MicroService` accepts streams from a
/// ``TransportListener`` and hands each to ``handle(_:)``, and feeds each broker
/// subscription's messages to ``deliver(_:to:)``.
public protocol Server: Sendable {
    /// The endpoints to advertise in the registry, handlers and subscribers alike.
    var endpoints: [Endpoint] { get }

    /// The broker subscriptions this server wants.
    var subscriptions: [ServerSubscription] { get }

    /// Answers one call; returns when the call is over.
    ///
    /// Listeners run it in a task of their own per stream, and a server may cancel that
    /// task (when the call's deadline passes, say): do not call it from a task that
    /// outlives the call.
    func handle(_ stream: any TransportStream) async

    /// Answers a call from its first message without suspending, when it can.
    ///
    /// The runtime hands it to ``TransportListener/serve(immediately:_:)``, so a listener
    /// that supports it calls it on its I/O thread before starting a task for the
    /// stream: the answer, which must be what ``handle(_:)`` would send, goes out with
    /// the end of stream, and `nil` sends the stream to ``handle(_:)``. It must not
    /// block. The default returns `nil`.
    func answerImmediately(_ request: TransportMessage) -> TransportMessage?

    /// Runs the subscribers of `subscription` for one message.
    ///
    /// - Throws: the subscriber's error, for the broker to log or redeliver.
    func deliver(_ message: BrokerMessage, to subscription: ServerSubscription) async throws
}

extension Server {
    /// Answers nothing at once: every call goes to ``handle(_:)``.
    public func answerImmediately(_ request: TransportMessage) -> TransportMessage? {
        nil
    }
}

/// A topic a server subscribes to, in an optional queue group.
public struct ServerSubscription: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The queue group; `nil` gets every message.
    public var queue: String?

    /// Creates a subscription.
    public init(topic: String, queue: String? = nil) {
        self.topic = topic
        self.queue = queue
    }
}
