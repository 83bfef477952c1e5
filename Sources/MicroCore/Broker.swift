/// Carries events from publishers to subscribers.
///
/// Subscribers with no queue each get every message of their topic. Subscribers that
/// share a queue name form a group: each message reaches one member of the group.
/// Backends: `MemoryBroker` (one process), `HTTPBroker`. Every backend passes
/// `BrokerConformance` from `MicroTesting`.
public protocol Broker: Sendable {
    /// Sends `message` to the subscribers of `topic`.
    func publish(_ topic: String, message: BrokerMessage) async throws

    /// Subscribes to `topic`, in queue group `queue` if given.
    ///
    /// The subscription is live when this returns. It ends when the iterating task is
    /// cancelled or the sequence is dropped.
    func subscribe(_ topic: String, queue: String?) async throws -> BrokerSubscription
}

/// The messages of a broker subscription.
public typealias BrokerSubscription = EventStream<BrokerMessage>
