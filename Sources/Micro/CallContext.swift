public import MicroCore

/// What a call carries into the code it runs: the caller's metadata and deadline.
///
/// The server sets it around every handler, so outgoing calls made while handling a call
/// inherit the caller's remaining time and metadata without passing them by hand.
public struct CallContext: Sendable {
    /// Metadata to pass on to outgoing calls.
    public var metadata: Metadata
    /// When the caller stops waiting, in the form the call path keeps it.
    package var deadlineTime: ContinuousTime?

    /// When the caller stops waiting; outgoing calls never wait longer.
    public var deadline: ContinuousClock.Instant? {
        get { deadlineTime.instant }
        set { deadlineTime = newValue.continuousTime }
    }

    /// Creates a context.
    public init(metadata: Metadata = Metadata(), deadline: ContinuousClock.Instant? = nil) {
        self.init(metadata: metadata, deadlineTime: deadline.continuousTime)
    }

    /// Creates a context from a deadline in the call path's form.
    package init(metadata: Metadata, deadlineTime: ContinuousTime?) {
        self.metadata = metadata
        self.deadlineTime = deadlineTime
    }

    /// The context of the call being handled by this task, if any.
    @TaskLocal public static var current: CallContext?
}

/// What a handler knows about the call it answers.
public struct ServerContext: Sendable {
    /// The service name the caller asked for.
    public var service: String
    /// The endpoint, `Handler.Method` (for a subscriber, its name).
    public var endpoint: String
    /// The caller's metadata (the headers minus the protocol's own).
    public var metadata: Metadata
    /// When the caller stops waiting, in the form the call path keeps it.
    package var deadlineTime: ContinuousTime?
    /// A client for calls to other services; they inherit this call's deadline and
    /// metadata.
    public var client: any Client

    /// When the caller stops waiting, from its `Timeout` header.
    public var deadline: ContinuousClock.Instant? {
        get { deadlineTime.instant }
        set { deadlineTime = newValue.continuousTime }
    }

    /// Creates a context.
    public init(
        service: String, endpoint: String, metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil, client: any Client
    ) {
        self.init(service: service, endpoint: endpoint, metadata: metadata, deadlineTime: deadline.continuousTime, client: client)
    }

    /// Creates a context from a deadline in the call path's form.
    package init(service: String, endpoint: String, metadata: Metadata, deadlineTime: ContinuousTime?, client: any Client) {
        self.service = service
        self.endpoint = endpoint
        self.metadata = metadata
        self.deadlineTime = deadlineTime
        self.client = client
    }

    /// The time left before the deadline; `nil` when the caller set none.
    public var remaining: Duration? {
        deadlineTime.map { $0 - .now }
    }
}

/// What a client interceptor sees of an outgoing call.
public struct ClientContext: Sendable {
    /// The service called.
    public var service: String
    /// The endpoint called, or the topic published to.
    public var endpoint: String
    /// The metadata sent with the call; an interceptor may change it.
    public var metadata: Metadata
    /// When the call gives up, in the form the call path keeps it.
    package var deadlineTime: ContinuousTime?

    /// When the call gives up.
    public var deadline: ContinuousClock.Instant? {
        get { deadlineTime.instant }
        set { deadlineTime = newValue.continuousTime }
    }

    /// Creates a context.
    public init(service: String, endpoint: String, metadata: Metadata, deadline: ContinuousClock.Instant?) {
        self.init(service: service, endpoint: endpoint, metadata: metadata, deadlineTime: deadline.continuousTime)
    }

    /// Creates a context from a deadline in the call path's form.
    package init(service: String, endpoint: String, metadata: Metadata, deadlineTime: ContinuousTime?) {
        self.service = service
        self.endpoint = endpoint
        self.metadata = metadata
        self.deadlineTime = deadlineTime
    }
}
